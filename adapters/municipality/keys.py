"""An organiser's own keys, as its case system holds them, and Silta's public keys as it fetches them.

`OrganiserKeys` keeps a party's private JWKs in one file (`keys.json`, mode
600): Ed25519 (`use` sig) to sign what it sends, X25519 (`use` enc) to be
encrypted to. `silta org keys new` adds a pair and prints the public JWKS to
register with Silta; the newest pair is current, older ones still decrypt.
`SiltaKeys` is Silta's JWKS (`/.well-known/jwks.json`): its live signing keys
to verify with and its current encryption key to encrypt to.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from broker.crypto.keys import b64url_decode, write_private
from broker.crypto.sealing import SigningKey

_FILE = "keys.json"


@dataclass(frozen=True)
class OrganiserKeys:
    """A party's private keys: the newest signing key signs, every encryption key decrypts."""

    party: str
    signer: SigningKey
    decryption_keys: dict[str, OKPKey]

    @classmethod
    def load(cls, folder: Path, party: str) -> OrganiserKeys:
        """Read `<folder>/<party>/keys.json`."""
        jwks: list[dict[str, Any]] = json.loads((folder / party / _FILE).read_text())["keys"]
        signing = [k for k in jwks if k["use"] == "sig"]
        if not signing:
            raise ValueError(f"{folder / party / _FILE} has no signing key; run `silta org keys new --org {party}`")
        newest = signing[-1]
        return cls(
            party,
            SigningKey(newest["kid"], Ed25519PrivateKey.from_private_bytes(b64url_decode(newest["d"]))),
            {k["kid"]: OKPKey.import_key(k) for k in jwks if k["use"] == "enc"},
        )

    @staticmethod
    def new(folder: Path, party: str) -> dict[str, Any]:
        """Add a signing and an encryption key for `party`; returns the public JWKS to register with Silta."""
        path = folder / party / _FILE
        jwks: list[dict[str, Any]] = json.loads(path.read_text())["keys"] if path.exists() else []
        number = 1 + len(jwks) // 2
        pairs: tuple[tuple[str, Literal["Ed25519", "X25519"]], ...] = (("sig", "Ed25519"), ("enc", "X25519"))
        for use, curve in pairs:
            key = OKPKey.generate_key(curve, parameters={"kid": f"{party}-{use}-{number}", "use": use}, private=True)
            jwks.append(key.as_dict(private=True))
        write_private(path, json.dumps({"keys": jwks}, indent=2).encode())  # the only copy of the private keys
        return public_jwks(jwks)

    @staticmethod
    def public(folder: Path, party: str) -> dict[str, Any]:
        """The public JWKS of every key the party holds."""
        return public_jwks(json.loads((folder / party / _FILE).read_text())["keys"])


def public_jwks(jwks: list[dict[str, Any]]) -> dict[str, Any]:
    """The public halves of private JWKs."""
    return {"keys": [{name: value for name, value in jwk.items() if name != "d"} for jwk in jwks]}


@dataclass(frozen=True)
class SiltaKeys:
    """Silta's public keys: the signing keys it may have signed with, and the key to encrypt to."""

    verification_keys: dict[str, Ed25519PublicKey]
    encryption_key: OKPKey

    @classmethod
    def from_jwks(cls, jwks: dict[str, Any]) -> SiltaKeys:
        """From Silta's JWKS: every `sig` key, and the newest `enc` key (the last listed)."""
        keys: list[dict[str, Any]] = jwks.get("keys", [])
        signing = {
            k["kid"]: Ed25519PublicKey.from_public_bytes(b64url_decode(k["x"])) for k in keys if k.get("use") == "sig"
        }
        encryption = [k for k in keys if k.get("use") == "enc"]
        if not signing or not encryption:
            raise ValueError("Silta's JWKS lacks a signing or an encryption key")
        return cls(signing, OKPKey.import_key(max(encryption, key=_key_number)))

    @classmethod
    async def fetch(cls, url: str, timeout_s: float = 10.0) -> SiltaKeys:
        """Fetch the JWKS from Silta's `/.well-known/jwks.json` (or a file path)."""
        if not url.startswith(("http://", "https://")):
            return cls.from_jwks(json.loads(await asyncio.to_thread(Path(url).read_text)))
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            answer = await client.get(url)
            answer.raise_for_status()
            return cls.from_jwks(answer.json())


def _key_number(jwk: dict[str, Any]) -> int:
    suffix = str(jwk.get("kid", "")).rsplit("-", 1)[-1]
    return int(suffix) if suffix.isdigit() else 0


class SiltaKeySource:
    """Silta's keys for a running client: fetched once, again after `ttl_s`, and when a record names a new key.

    The TTL makes a retired key stop verifying and a new encryption key be used without a restart. A
    refetch for an unknown key id happens at most once per `min_refetch_s`, so a flood of records with
    made-up key ids costs one request, not one each. A failed refetch keeps the keys it had.
    """

    def __init__(
        self, url: str, keys: SiltaKeys | None = None, min_refetch_s: float = 10.0, ttl_s: float = 300.0
    ) -> None:
        self.url = url
        self._keys = keys
        self._min_refetch_s = min_refetch_s
        self._ttl_s = ttl_s
        self._fetched_at = time.monotonic() if keys is not None else -min_refetch_s

    @classmethod
    def fixed(cls, keys: SiltaKeys) -> SiltaKeySource:
        """A source that never fetches (tests, offline tools)."""
        return cls("", keys)

    async def keys(self) -> SiltaKeys:
        """The keys: fetched on first use, and again once they are older than the TTL."""
        if self._keys is None:
            self._keys = await self._fetch()
        elif self.url and time.monotonic() - self._fetched_at > self._ttl_s:
            await self._refresh()
        return self._keys

    async def verification_key(self, key_id: str) -> Ed25519PublicKey | None:
        """Silta's public signing key `key_id`, refetching once if it is new to this client."""
        keys = await self.keys()
        may_refetch = bool(self.url) and time.monotonic() - self._fetched_at > self._min_refetch_s
        if key_id not in keys.verification_keys and may_refetch:
            keys = await self._refresh()
        return keys.verification_keys.get(key_id)

    async def _refresh(self) -> SiltaKeys:
        held = self._keys
        try:
            fresh = await self._fetch()
        except (httpx.HTTPError, OSError, ValueError):
            self._fetched_at = time.monotonic()  # try again after the interval, not on every record
            if held is None:
                raise
            return held
        self._keys = fresh
        return fresh

    async def _fetch(self) -> SiltaKeys:
        self._fetched_at = time.monotonic()
        return await SiltaKeys.fetch(self.url)
