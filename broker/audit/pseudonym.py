"""Keyed pseudonyms of personal identity codes for the logs: HMAC-SHA256, never the code in clear.

The key has versions (`broker.audit.pseudonym_ring`): new entries are written
under the current one and say which (`pseudonym_version`), and a look-up by
identity code tries every live version, so a rotation never hides an earlier
entry. Version 1 is `SILTA_PSEUDONYM_KEY_FILE` itself; its bytes also seed
Silta's message ids (`id_secret`), which therefore never change with a
rotation. A running service sees a rotation made by `silta keys rotate`
within `RECHECK_S` seconds: it looks at the ring file's size and time at
most that often and reads it again when they change.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from broker.audit.pseudonym_ring import FIRST_VERSION, KEY_BYTES, RingError, RingState, read_ring, ring_path
from broker.crypto.keys import write_private
from broker.domain.disclosure import Pseudonym

log = structlog.get_logger(__name__)
RECHECK_S = 1.0
KID_PREFIX = "pseudonym-"


@dataclass(frozen=True)
class PseudonymKey:
    """One version of the pseudonym key."""

    version: int
    secret: bytes = field(repr=False)

    @property
    def kid(self) -> str:
        """The key's id for `silta keys`: `pseudonym-<version>`."""
        return f"{KID_PREFIX}{self.version}"

    def of(self, identity_code: str) -> Pseudonym:
        """The pseudonym of one identity code under this version."""
        digest = hmac.new(self.secret, identity_code.encode(), hashlib.sha256).hexdigest()
        return Pseudonym(digest, self.version)


def _check_length(key: bytes) -> bytes:
    if len(key) < KEY_BYTES:
        raise ValueError("the pseudonym key must be at least 32 bytes")
    return key


class Pseudonymiser:
    """Maps an identity code to stable pseudonyms that cannot be reversed without the keys."""

    def __init__(
        self,
        key: bytes,
        ring: Path | None = None,
        *,
        recheck_s: float = RECHECK_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._first = PseudonymKey(FIRST_VERSION, _check_length(key))
        self._ring, self._recheck_s, self._monotonic = ring, recheck_s, monotonic
        self._seen: tuple[int, int, int] | None = None
        self._checked_at = float("-inf")
        self._keys: tuple[PseudonymKey, ...] = (self._first,)
        self._current = self._first
        self._refresh(strict=True)

    @classmethod
    def from_file(cls, path: Path, *, recheck_s: float = RECHECK_S) -> Pseudonymiser:
        """Version 1 from `path`, later versions from the ring beside it; keep them as long as the logs (12 years)."""
        if not path.exists():
            raise FileNotFoundError(f"pseudonym key {path} not found; run `silta keys init` for a local run")
        return cls(path.read_bytes(), ring_path(path), recheck_s=recheck_s)

    @property
    def id_secret(self) -> bytes:
        """Version 1's bytes, from which `MessageIds` derives its key: the same before and after any rotation."""
        return self._first.secret

    def current(self) -> PseudonymKey:
        """The version new entries are written with."""
        self._refresh()
        return self._current

    def live(self) -> tuple[PseudonymKey, ...]:
        """Every live version: the current one first, then the others newest first."""
        self._refresh()
        return self._keys

    def of(self, identity_code: str) -> Pseudonym:
        """The pseudonym of one identity code under the current version."""
        return self.current().of(identity_code)

    def every(self, identity_code: str) -> tuple[Pseudonym, ...]:
        """The pseudonym of one identity code under every live version, the current one first: for look-ups."""
        return tuple(key.of(identity_code) for key in self.live())

    def _refresh(self, *, strict: bool = False) -> None:
        """Read the ring again if it changed since the last look (at most every `recheck_s` seconds)."""
        if self._ring is None or (not strict and self._monotonic() - self._checked_at < self._recheck_s):
            return
        self._checked_at = self._monotonic()
        seen = _file_identity(self._ring)
        if seen == self._seen:
            return
        try:
            state = read_ring(self._ring)
        except RingError:
            if strict:
                raise
            log.exception("pseudonym_ring_unreadable", ring=str(self._ring))
            return
        self._apply(state)
        self._seen = seen

    def _apply(self, state: RingState) -> None:
        versions = sorted(state.live_versions(), key=lambda v: (v != state.current, -v))
        keys = [self._first if v == FIRST_VERSION else PseudonymKey(v, state.secrets[v]) for v in versions]
        self._keys, self._current = tuple(keys), keys[0]


def _file_identity(path: Path) -> tuple[int, int, int]:
    """What changes when the file is replaced or rewritten (inode, size, modification time); zeros if absent."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return (0, 0, 0)
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def ensure_pseudonym_key(path: Path) -> None:
    """Create a random key file for local runs, if there is none."""
    if path.exists():
        return
    write_private(path, secrets.token_bytes(32), exclusive=True)
