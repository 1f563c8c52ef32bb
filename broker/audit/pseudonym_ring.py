"""The versions of the pseudonym key after the first, kept in a JSON file beside `SILTA_PSEUDONYM_KEY_FILE`.

Version 1 is the key file itself (raw bytes, as it always was), so a
deployment from before key versions reads exactly as before. Every later
version lives in `<key file>.versions.json`, the "ring":

    {"format": "silta-pseudonym-keys/1", "current": 3,
     "keys": [{"version": 2, "secret": "<base64>", "created": "…"}, …],
     "retired": [{"version": 1, "retired": "…"}]}

`current` is the version new log entries are written with; every version
that is neither retired nor missing is live, and look-ups try them all.
Versions are never reused: a rotation takes one more than any version the
ring has ever named. Retiring a version removes its secret from the ring
(version 1's file stays: Silta's message ids are derived from it, see
`broker.crypto.ids`). The file is written whole to a temporary file and
renamed over the old one, under an exclusive lock, with mode 600.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from broker.crypto.keys import write_private

FORMAT = "silta-pseudonym-keys/1"
FIRST_VERSION = 1
KEY_BYTES = 32


class RingError(ValueError):
    """The ring file cannot be read, or the change asked of it is not allowed."""


@dataclass(frozen=True)
class RingState:
    """What the ring file says: the current version, the secrets of later versions, the retired versions."""

    current: int = FIRST_VERSION
    secrets: dict[int, bytes] = field(default_factory=dict, repr=False)
    """Version → secret, for every live version after the first."""
    created: dict[int, str] = field(default_factory=dict)
    retired: dict[int, str] = field(default_factory=dict)
    """Version → when it was retired."""

    def highest(self) -> int:
        """The highest version the ring has ever named."""
        return max({FIRST_VERSION, self.current, *self.secrets, *self.retired})

    def live_versions(self) -> list[int]:
        """Every version still live, newest first (version 1 unless retired)."""
        live = [v for v in self.secrets if v not in self.retired]
        if FIRST_VERSION not in self.retired:
            live.append(FIRST_VERSION)
        return sorted(live, reverse=True)


def ring_path(key_file: Path) -> Path:
    """Where the later versions of the key in `key_file` are kept: `<key file>.versions.json` beside it."""
    return key_file.with_name(key_file.name + ".versions.json")


def read_ring(path: Path) -> RingState:
    """The ring's state; a ring that does not exist has version 1 alone."""
    if not path.exists():
        return RingState()
    try:
        document = json.loads(path.read_text())
        return _parse(document)
    except (ValueError, KeyError, TypeError) as error:
        raise RingError(f"pseudonym key ring {path} cannot be read: {error}") from None


def _parse(document: dict[str, Any]) -> RingState:
    if document.get("format") != FORMAT:
        raise RingError(f"not a {FORMAT} document")
    keys = {int(k["version"]): k for k in document.get("keys", [])}
    key_secrets = {v: base64.b64decode(k["secret"], validate=True) for v, k in keys.items()}
    if any(len(secret) < KEY_BYTES for secret in key_secrets.values()):
        raise RingError("every pseudonym key must be at least 32 bytes")
    state = RingState(
        current=int(document["current"]),
        secrets=key_secrets,
        created={v: str(k.get("created", "")) for v, k in keys.items()},
        retired={int(r["version"]): str(r.get("retired", "")) for r in document.get("retired", [])},
    )
    if state.current not in state.live_versions():
        raise RingError(f"the current version {state.current} has no live key")
    return state


def _document(state: RingState) -> dict[str, Any]:
    keys = [
        {"version": v, "secret": base64.b64encode(s).decode(), "created": state.created.get(v, "")}
        for v, s in sorted(state.secrets.items())
    ]
    retired = [{"version": v, "retired": at} for v, at in sorted(state.retired.items())]
    return {"format": FORMAT, "current": state.current, "keys": keys, "retired": retired}


def write_ring(path: Path, state: RingState) -> None:
    """Replace the ring file with `state`: a temporary file (mode 600), flushed, then renamed over it."""
    write_private(path, json.dumps(_document(state), indent=2).encode())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside the ring, so two commands never change it at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def rotate_ring(path: Path, at: dt.datetime) -> int:
    """Add a new random version and make it current; the new version's number."""
    with _locked(path):
        state = read_ring(path)
        version = state.highest() + 1
        write_ring(
            path,
            replace(
                state,
                current=version,
                secrets={**state.secrets, version: secrets.token_bytes(KEY_BYTES)},
                created={**state.created, version: at.isoformat()},
            ),
        )
    return version


def retire_in_ring(path: Path, version: int, at: dt.datetime) -> None:
    """Mark a live version retired and forget its secret; the current version cannot be retired."""
    with _locked(path):
        state = read_ring(path)
        if version not in state.live_versions():
            raise RingError(f"pseudonym key version {version} is not live")
        if version == state.current:
            raise RingError(f"pseudonym key version {version} is current: rotate first")
        remaining = {v: s for v, s in state.secrets.items() if v != version}
        created = {v: c for v, c in state.created.items() if v != version}
        retired = {**state.retired, version: at.isoformat()}
        write_ring(path, replace(state, secrets=remaining, created=created, retired=retired))
