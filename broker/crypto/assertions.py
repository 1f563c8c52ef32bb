"""The guardians' portal vouches for the guardian with a signed, short-lived, single-use assertion.

Strong identification is the portal's job. With each request the portal sends
its own service token and an assertion: an EdDSA JWT issued by the portal for
Silta's guardian audience, naming the guardian (`sub`) and the portal client
(`azp`), with a unique `jti` and at most a few minutes of life. Silta refuses
one that is expired, issued for another audience or another client, lives too
long, or was used before (the caller records each `jti` as spent).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.jwks import JwksSource
from broker.crypto.tokens import DEV_KEY_ID, Caller, decode_signed, sign_claims, unverified_kid
from broker.domain.errors import ErrorCode, Rejection

ASSERTION_HEADER = "X-Guardian-Assertion"
MAX_LIFETIME = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class GuardianAssertion:
    """A verified assertion: which guardian, and the id that must not be used again."""

    guardian_id: str
    jti: str
    expires_at: dt.datetime

    def __repr__(self) -> str:
        return f"GuardianAssertion(guardian_id={self.guardian_id!r})"


class AssertionVerifier:
    """Checks guardian assertions against the trusted keys, issuer and audience."""

    def __init__(self, jwks: dict[str, Any] | JwksSource, issuer: str, audience: str) -> None:
        self._keys = jwks if isinstance(jwks, JwksSource) else JwksSource.fixed(jwks)
        self._issuer = issuer
        self._audience = audience

    async def verify_live(self, assertion: str | None, caller: Caller) -> GuardianAssertion:
        """`verify`, after reading the keys again if they are past their TTL or lack the assertion's key id."""
        await self._keys.refresh_for(unverified_kid(assertion))
        return self.verify(assertion, caller)

    def verify(self, assertion: str | None, caller: Caller) -> GuardianAssertion:
        """The guardian the portal vouches for, or a 401 rejection saying why not."""
        if not assertion:
            raise Rejection(
                ErrorCode.GUARDIAN_ASSERTION_MISSING, f"send the guardian's assertion in {ASSERTION_HEADER}"
            )
        try:
            claims = decode_signed(assertion, self._keys.keys, self._issuer, self._audience, ["sub", "jti", "azp"])
        except jwt.PyJWTError as error:
            raise Rejection(
                ErrorCode.GUARDIAN_ASSERTION_INVALID, f"the guardian assertion was refused: {error}"
            ) from None
        if claims["azp"] != caller.client_id:
            raise Rejection(ErrorCode.GUARDIAN_ASSERTION_INVALID, "the assertion was issued for another client")
        if claims["exp"] - claims["iat"] > MAX_LIFETIME.total_seconds():
            raise Rejection(ErrorCode.GUARDIAN_ASSERTION_INVALID, "the assertion lives longer than five minutes")
        expires_at = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
        return GuardianAssertion(str(claims["sub"]), str(claims["jti"]), expires_at)


def mint_guardian_assertion(
    private_key: Ed25519PrivateKey,
    guardian_id: str,
    portal_client: str,
    issuer: str,
    audience: str,
    *,
    lifetime: dt.timedelta = dt.timedelta(minutes=2),
    key_id: str = DEV_KEY_ID,
) -> str:
    """An assertion as the portal would issue it (for local runs and tests)."""
    claims = {"iss": issuer, "aud": audience, "sub": guardian_id, "azp": portal_client, "jti": str(uuid.uuid4())}
    return sign_claims(private_key, claims, lifetime, key_id)
