"""Guardian assertions: signed by a trusted key, for Silta's guardian audience, for this portal, short-lived."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.assertions import AssertionVerifier, mint_guardian_assertion
from broker.crypto.tokens import Caller, public_jwks
from broker.domain.errors import ErrorCode, Rejection

KEY = Ed25519PrivateKey.generate()
VERIFIER = AssertionVerifier(public_jwks(KEY), "guardian-portal", "silta-guardian")
PORTAL = Caller("guardian-portal", "guardian-portal")


def _assertion(**overrides: object) -> str:
    values: dict[str, object] = {
        "private_key": KEY,
        "guardian_id": "edv-0001",
        "portal_client": "guardian-portal",
        "issuer": "guardian-portal",
        "audience": "silta-guardian",
    }
    values.update(overrides)
    lifetime = values.pop("lifetime", dt.timedelta(minutes=2))
    return mint_guardian_assertion(**values, lifetime=lifetime)  # type: ignore[arg-type]


def _code(assertion: str | None) -> ErrorCode:
    with pytest.raises(Rejection) as caught:
        VERIFIER.verify(assertion, PORTAL)
    return caught.value.code


def test_a_valid_assertion_names_the_guardian() -> None:
    """The portal's assertion gives the guardian id and a unique id to spend."""
    verified = VERIFIER.verify(_assertion(), PORTAL)
    assert verified.guardian_id == "edv-0001"
    assert verified.jti


def test_a_missing_assertion_is_refused() -> None:
    """No assertion header: guardian-assertion-missing."""
    assert _code(None) is ErrorCode.GUARDIAN_ASSERTION_MISSING


@pytest.mark.parametrize(
    "overrides",
    [
        {"lifetime": dt.timedelta(seconds=-5)},
        {"audience": "silta"},
        {"issuer": "someone-else"},
        {"portal_client": "another-portal"},
        {"lifetime": dt.timedelta(hours=1)},
        {"private_key": Ed25519PrivateKey.generate()},
    ],
    ids=["expired", "other-audience", "other-issuer", "other-client", "too-long-lived", "forged-signature"],
)
def test_bad_assertions_are_refused(overrides: dict[str, object]) -> None:
    """Expired, another audience, issuer or client, more than five minutes of life, or forged: invalid."""
    assert _code(_assertion(**overrides)) is ErrorCode.GUARDIAN_ASSERTION_INVALID
