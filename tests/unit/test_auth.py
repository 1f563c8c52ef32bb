"""Bearer tokens: who is calling, and as which party."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.tokens import TokenVerifier, mint_token
from broker.domain.clients import Role, resolve_clients
from broker.domain.errors import ErrorCode, Rejection
from tests.conftest import AUDIENCE, CLIENTS, ISSUER
from tests.support.clients import CLIENT_ROLES


@pytest.fixture
def verifier(jwks_file: Path) -> TokenVerifier:
    """A verifier that trusts the test key."""
    return TokenVerifier.from_file(jwks_file, ISSUER, AUDIENCE, resolve_clients(CLIENT_ROLES, CLIENTS))


def _code(verifier: TokenVerifier, header: str | None) -> ErrorCode:
    with pytest.raises(Rejection) as caught:
        verifier.verify(header)
    return caught.value.code


def test_valid_token_maps_client_to_party(verifier: TokenVerifier, token_for: Callable[..., str]) -> None:
    """Kela's client id acts as the party `kela` in the role kela; an organiser's case system as its organiser."""
    caller = verifier.verify(f"Bearer {token_for('kela')}")
    assert (caller.client_id, caller.party, caller.role) == ("kela", "kela", Role.KELA)
    organiser = verifier.verify(f"Bearer {token_for('hva-08-case-system')}")
    assert (organiser.party, organiser.role) == ("hva-08", Role.ORGANISER)
    data_protection = verifier.verify(f"Bearer {token_for('kela-data-protection')}")
    assert (data_protection.party, data_protection.role) == ("kela", Role.KELA_DATA_PROTECTION)


def test_missing_header_is_token_missing(verifier: TokenVerifier) -> None:
    """No Authorization header at all is a 401 token-missing."""
    assert _code(verifier, None) is ErrorCode.TOKEN_MISSING
    assert _code(verifier, "Basic a2VsYTp4") is ErrorCode.TOKEN_MISSING


def test_expired_token_is_invalid(verifier: TokenVerifier, token_for: Callable[..., str]) -> None:
    """An expired token is refused."""
    assert _code(verifier, f"Bearer {token_for('kela', dt.timedelta(seconds=-5))}") is ErrorCode.TOKEN_INVALID


def test_token_from_another_key_is_invalid(verifier: TokenVerifier) -> None:
    """A token signed by a key Silta does not trust is refused, even with a trusted key id."""
    token = mint_token(Ed25519PrivateKey.generate(), "kela", ISSUER, AUDIENCE)
    assert _code(verifier, f"Bearer {token}") is ErrorCode.TOKEN_INVALID


def test_token_for_another_audience_is_invalid(signing_key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    """A token issued for another service is refused."""
    token = mint_token(signing_key, "kela", ISSUER, "another-service")
    assert _code(verifier, f"Bearer {token}") is ErrorCode.TOKEN_INVALID


def test_unsigned_token_is_invalid(verifier: TokenVerifier) -> None:
    """alg=none is never accepted."""
    token = jwt.encode(
        {"client_id": "kela", "iss": ISSUER, "aud": AUDIENCE}, "", algorithm="none", headers={"kid": "silta-dev-1"}
    )
    assert _code(verifier, f"Bearer {token}") is ErrorCode.TOKEN_INVALID


def test_unknown_client_is_refused(verifier: TokenVerifier, token_for: Callable[..., str]) -> None:
    """A well-signed token for a client that has no party is a 403 client-unknown."""
    assert _code(verifier, f"Bearer {token_for('somebody')}") is ErrorCode.CLIENT_UNKNOWN
