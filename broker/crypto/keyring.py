"""Silta's own record keys, each with an id: Ed25519 to sign, X25519 to be encrypted to; rotated without downtime.

A key folder (`SILTA_KEY_DIR`) holds one PEM file per key and `ring.json`,
which names each key's purpose, the current key of each purpose and the keys
retired. New records are signed with the current signing key; every key not
retired still verifies and decrypts, so a record sealed before a rotation is
still read after it. `silta keys rotate` adds a key and makes it current;
`silta keys retire KID` ends an old one. The running service notices a changed
ring within a second (`LiveKeyRing`), and `/.well-known/jwks.json` publishes
the public halves for the organisers' clients.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc.jwk import OKPKey

from broker.crypto.keys import pkcs8_pem, write_private
from broker.crypto.sealing import SigningKey

Purpose = Literal["signing", "encryption"]
PURPOSES: tuple[Purpose, ...] = ("signing", "encryption")
_RING = "ring.json"


class KeyRingError(ValueError):
    """The key folder is missing a key, or a change to it is not allowed."""


@dataclass(frozen=True)
class KeyRing:
    """The keys of one folder: current per purpose, and every key still live."""

    signer: SigningKey
    verification_keys: dict[str, Ed25519PublicKey]
    encryption_key: OKPKey
    decryption_keys: dict[str, OKPKey] = field(repr=False)

    @classmethod
    def load(cls, folder: Path) -> KeyRing:
        """Read the ring; `KeyRingError` if it has no current key of each purpose."""
        state = _state(folder)
        live = [k for k in state["keys"] if not k["retired"]]
        current = state["current"]
        signing = {k["kid"]: _private(folder, k["kid"]) for k in live if k["purpose"] == "signing"}
        decryption = {k["kid"]: _okp(folder, k["kid"]) for k in live if k["purpose"] == "encryption"}
        signer_key = signing.get(current.get("signing", ""))
        encryption = decryption.get(current.get("encryption", ""))
        if not isinstance(signer_key, Ed25519PrivateKey) or encryption is None:
            raise KeyRingError(f"{folder} has no current signing and encryption key; run `silta keys init`")
        return cls(
            SigningKey(current["signing"], signer_key),
            {kid: key.public_key() for kid, key in signing.items() if isinstance(key, Ed25519PrivateKey)},
            OKPKey.import_key(encryption.as_dict(private=False)),
            decryption,
        )

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys as a JWKS: every live signing key (`use` sig) and encryption key (`use` enc)."""
        keys = [_public_jwk(kid, key) for kid, key in sorted(self.verification_keys.items())]
        keys += [
            {**key.as_dict(private=False), "use": "enc", "alg": "ECDH-ES+A256KW"}
            for _, key in sorted(self.decryption_keys.items())
        ]
        return {"keys": keys}


class LiveKeyRing:
    """The ring as it is on disk now: reloaded when `ring.json` changes, looked at at most once a second."""

    def __init__(self, folder: Path, check_every_s: float = 1.0) -> None:
        self.folder = folder
        self._check_every_s = check_every_s
        self._stamp = _stamp(folder)
        self._ring = KeyRing.load(folder)
        self._checked = time.monotonic()

    def current(self) -> KeyRing:
        """The ring, reloaded first if it changed since the last look."""
        now = time.monotonic()
        if now - self._checked >= self._check_every_s:
            self._checked = now
            stamp = _stamp(self.folder)
            if stamp != self._stamp:
                self._ring, self._stamp = KeyRing.load(self.folder), stamp
        return self._ring


def signing_keys_ever(folder: Path) -> dict[str, Ed25519PublicKey]:
    """Every signing key the ring has held, retired ones too: to check what was signed in the past (the logs)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in _state(folder)["keys"]:
        key = _private(folder, entry["kid"]) if entry["purpose"] == "signing" else None
        if isinstance(key, Ed25519PrivateKey):
            keys[entry["kid"]] = key.public_key()
    return keys


@contextlib.contextmanager
def _changing(folder: Path) -> Iterator[None]:
    """One change to the ring at a time: two operators rotating and retiring at once must not undo each other."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "ring.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_key_ring(folder: Path) -> list[str]:
    """Make a first key of each purpose that has none (local runs); returns the ids made."""
    with _changing(folder):
        state = _state(folder) if (folder / _RING).exists() else {"keys": [], "current": {}}
        made = [_add_key(folder, state, purpose) for purpose in PURPOSES if purpose not in state["current"]]
        if made:
            _save(folder, state)
        return made


def rotate(folder: Path, purpose: Purpose) -> str:
    """Add a new key of `purpose` and make it current; the old one stays live until retired."""
    with _changing(folder):
        state = _state(folder)
        kid = _add_key(folder, state, purpose)
        _save(folder, state)
        return kid


def retire(folder: Path, kid: str) -> None:
    """Retire a key: it no longer verifies or decrypts. The current key of a purpose cannot be retired."""
    with _changing(folder):
        _retire(folder, kid)


def _retire(folder: Path, kid: str) -> None:
    state = _state(folder)
    entry = next((k for k in state["keys"] if k["kid"] == kid), None)
    if entry is None:
        raise KeyRingError(f"no key {kid!r} in {folder}")
    if state["current"].get(entry["purpose"]) == kid:
        raise KeyRingError(f"{kid} is the current {entry['purpose']} key; rotate first")
    entry["retired"] = True
    _save(folder, state)


def _add_key(folder: Path, state: dict[str, Any], purpose: Purpose) -> str:
    number = 1 + sum(1 for k in state["keys"] if k["purpose"] == purpose)
    while (folder / f"silta-{purpose}-{number}.pem").exists():  # left by a rotation that crashed before saving
        number += 1
    kid = f"silta-{purpose}-{number}"
    key = Ed25519PrivateKey.generate() if purpose == "signing" else X25519PrivateKey.generate()
    write_private(folder / f"{kid}.pem", pkcs8_pem(key), exclusive=True)
    state["keys"].append({"kid": kid, "purpose": purpose, "created": time.time(), "retired": False})
    state["current"][purpose] = kid
    return kid


def _state(folder: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads((folder / _RING).read_text())
    except FileNotFoundError:
        raise KeyRingError(f"no key ring at {folder}; run `silta keys init`") from None
    return state


def _save(folder: Path, state: dict[str, Any]) -> None:
    write_private(folder / _RING, json.dumps(state, indent=2).encode())  # a reader sees the old ring or the new


def _stamp(folder: Path) -> tuple[int, int]:
    info = (folder / _RING).stat()
    return info.st_mtime_ns, info.st_ino


def _private(folder: Path, kid: str) -> object:
    return serialization.load_pem_private_key((folder / f"{kid}.pem").read_bytes(), password=None)


def _okp(folder: Path, kid: str) -> OKPKey:
    return OKPKey.import_key((folder / f"{kid}.pem").read_bytes(), parameters={"kid": kid})


def _public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, Any]:
    raw = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {**OKPKey.import_key(raw).as_dict(private=False), "kid": kid, "use": "sig", "alg": "EdDSA"}
