"""Who is calling: bearer JWTs checked against configured public keys.

Tokens are EdDSA (Ed25519) JWTs with `iss`, `aud`, `exp` and a `client_id`
claim; the key is chosen by the token's `kid` from a JWKS (a file or the
identity provider's URL, read again on a TTL and on an unknown `kid`:
`broker.crypto.jwks`). The client id
gives the caller's role and the party it acts as (`broker.domain.clients`). `silta token` mints tokens for local
runs with a development key; production tokens come from the identity
provider whose public keys the JWKS file holds.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.jwks import JwksSource
from broker.crypto.keys import ensure_ed25519_key
from broker.domain.clients import ClientGrant, Role
from broker.domain.errors import ErrorCode, Rejection

_ALGORITHMS = ["EdDSA"]
# Verified tokens are remembered until they expire: a signature check costs more
# than the rest of authentication, and clients reuse a token for many requests.
_CACHE_SIZE = 4096
DEV_KEY_ID = "silta-dev-1"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its client id, the party it acts as and, for a REST client, its role."""

    client_id: str
    party: str
    role: Role | None = None
    """None for a caller that is no REST client (an organiser's Kafka record, a command, a test of the core)."""


class TokenVerifier:
    """Checks bearer tokens and maps their client to its role and party.

    The keys are a `JwksSource`: `verify_live` reads them again first when they are due (TTL, or a token
    naming a key id they lack); `verify` checks against the keys as they are. A plain JWKS never changes.
    """

    def __init__(
        self, jwks: dict[str, Any] | JwksSource, issuer: str, audience: str, clients: Mapping[str, ClientGrant]
    ) -> None:
        self._keys = jwks if isinstance(jwks, JwksSource) else JwksSource.fixed(jwks)
        self._issuer = issuer
        self._audience = audience
        self._clients = clients
        self._verified: dict[str, tuple[Caller, float]] = {}
        self._generation = self._keys.generation

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str, clients: Mapping[str, ClientGrant]) -> TokenVerifier:
        """Load the public keys from a JWKS file."""
        return cls(load_jwks(path), issuer, audience, clients)

    async def verify_live(self, authorization: str | None) -> Caller:
        """`verify`, after reading the keys again if they are past their TTL or lack the token's key id."""
        await self._keys.refresh_for(unverified_kid(_bearer(authorization)))
        return self.verify(authorization)

    def verify(self, authorization: str | None) -> Caller:
        """The caller behind an `Authorization: Bearer …` header, or a 401/403 rejection."""
        token = _bearer(authorization)
        if self._generation != self._keys.generation:  # a key may have gone: verify every token again
            self._verified.clear()
            self._generation = self._keys.generation
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        caller, expires_at = self._verify_token(token)
        if len(self._verified) >= _CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (caller, expires_at)
        return caller

    def _verify_token(self, token: str) -> tuple[Caller, float]:
        try:
            claims = decode_signed(token, self._keys.keys, self._issuer, self._audience, ["client_id"])
        except jwt.PyJWTError as error:
            raise Rejection(ErrorCode.TOKEN_INVALID, f"the token was refused: {error}") from None
        client_id = str(claims["client_id"])
        grant = self._clients.get(client_id)
        if grant is None:
            raise Rejection(ErrorCode.CLIENT_UNKNOWN, f"client `{client_id[:64]}` is not allowed to use Silta")
        return Caller(client_id, grant.party, grant.role), float(claims["exp"])


def _bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header, or `token-missing`."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Rejection(ErrorCode.TOKEN_MISSING, "send an `Authorization: Bearer <token>` header")
    return authorization.removeprefix("Bearer ").strip()


def unverified_kid(token: str | None) -> str | None:
    """The key id a token's header names, unverified (to choose a key, or to read the keys again); None if none."""
    if not token:
        return None
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def load_jwks(path: Path) -> dict[str, Any]:
    """The trusted public keys (a JWKS document) from a file."""
    if not path.exists():
        raise FileNotFoundError(f"JWKS file {path} not found; run `silta keys init` for a local run")
    jwks: dict[str, Any] = json.loads(path.read_text())
    return jwks


def decode_signed(
    token: str, keys: Mapping[str | None, jwt.PyJWK], issuer: str, audience: str, required: list[str]
) -> dict[str, Any]:
    """The claims of an EdDSA JWT signed by one of `keys` (by `kid`), for `audience`, from `issuer`, unexpired.

    Raises a `jwt.PyJWTError` naming what is wrong.
    """
    key_id = jwt.get_unverified_header(token).get("kid")
    key = keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        raise jwt.InvalidTokenError("signed with an unknown key")
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=_ALGORITHMS,
        audience=audience,
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", *required]},
    )
    return claims


def sign_claims(
    private_key: Ed25519PrivateKey, claims: dict[str, Any], lifetime: dt.timedelta, key_id: str = DEV_KEY_ID
) -> str:
    """An EdDSA JWT of `claims` with `iat` now and `exp` after `lifetime` (for local runs and tests)."""
    now = dt.datetime.now(dt.UTC)
    return jwt.encode(
        {**claims, "iat": now, "exp": now + lifetime}, private_key, algorithm="EdDSA", headers={"kid": key_id}
    )


def mint_token(
    private_key: Ed25519PrivateKey,
    client_id: str,
    issuer: str,
    audience: str,
    *,
    lifetime: dt.timedelta = dt.timedelta(hours=1),
    key_id: str = DEV_KEY_ID,
) -> str:
    """A signed token for `client_id` (for local runs and tests)."""
    claims = {"iss": issuer, "aud": audience, "sub": client_id, "client_id": client_id}
    return sign_claims(private_key, claims, lifetime, key_id)


def public_jwks(private_key: Ed25519PrivateKey, key_id: str = DEV_KEY_ID) -> dict[str, Any]:
    """The JWKS document that verifies tokens signed with `private_key`."""
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": key_id, "use": "sig", "alg": "EdDSA"})
    return {"keys": [jwk]}


def ensure_dev_keys(key_file: Path, jwks_file: Path) -> Ed25519PrivateKey:
    """Load the local development signing key, creating it and its JWKS file on first use."""
    private_key = ensure_ed25519_key(key_file)
    if not jwks_file.exists():
        jwks_file.parent.mkdir(parents=True, exist_ok=True)
        jwks_file.write_text(json.dumps(public_jwks(private_key), indent=2))
    return private_key
