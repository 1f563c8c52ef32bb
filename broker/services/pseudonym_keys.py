"""The use cases "rotate the pseudonym key" and "retire a version of it".

A rotation adds a version and makes it current: new log entries, messages and
mandates are written with it, and every look-up tries every live version, so
nothing written before becomes unreachable. A version is retired (its secret
forgotten) only when nothing needs it any more (`VersionUse`), or when the
operator insists, knowing what becomes unreachable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from broker.audit.pseudonym import KID_PREFIX
from broker.audit.pseudonym_ring import RingError, read_ring, retire_in_ring, ring_path, rotate_ring
from broker.domain.clock import Clock
from broker.services.unit_of_work import UnitOfWork
from broker.store.pseudonym_versions import VersionUse, forget_version, version_use

_KID = re.compile(rf"{re.escape(KID_PREFIX)}([1-9][0-9]{{0,8}})")


def version_of_kid(kid: str) -> int | None:
    """The version a pseudonym key id (`pseudonym-<version>`) names; None for any other key id."""
    match = _KID.fullmatch(kid)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Retirement:
    """The outcome of retiring a version: what needed it, and whether it was retired."""

    version: int
    use: VersionUse
    retired: bool


@dataclass(frozen=True)
class KeyState:
    """One version of the pseudonym key as `silta keys list` shows it."""

    kid: str
    state: str
    """`current`, `live` or `retired`."""
    since: str


class PseudonymKeys:
    """Rotation and retirement of the versions of the pseudonym key whose version 1 is `key_file`."""

    def __init__(self, key_file: Path, clock: Clock) -> None:
        self._ring, self._clock = ring_path(key_file), clock

    def rotate(self) -> int:
        """Add a version and make it current; its number."""
        return rotate_ring(self._ring, self._clock.now())

    def states(self) -> list[KeyState]:
        """Every version the ring names, oldest first."""
        state = read_ring(self._ring)
        versions = range(1, state.highest() + 1)
        return [
            KeyState(
                f"{KID_PREFIX}{v}",
                "retired" if v in state.retired else "current" if v == state.current else "live",
                state.retired.get(v) or state.created.get(v, ""),
            )
            for v in versions
            if v in state.retired or v in state.live_versions()
        ]

    async def retire(self, uow: UnitOfWork, version: int, *, force: bool = False) -> Retirement:
        """Retire `version` if nothing needs it, or regardless with `force`; the caller commits."""
        state = read_ring(self._ring)
        if version not in state.live_versions():
            raise RingError(f"{KID_PREFIX}{version} is not a live pseudonym key")
        if version == state.current:
            raise RingError(f"{KID_PREFIX}{version} is the current pseudonym key: rotate first")
        use = await version_use(uow.session, version, state.live_versions())
        if not use.unused and not force:
            return Retirement(version, use, retired=False)
        await forget_version(uow.session, version)
        retire_in_ring(self._ring, version, uow.now)
        return Retirement(version, use, retired=True)
