"""Fixtures shared by every test: fictitious documents, signing keys, settings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.auth import Caller, mint_token, public_jwks

ISSUER = "silta-test"
AUDIENCE = "silta"
CLIENTS = {"kela": "kela", "hva-08-case-system": "hva-08"}
KELA = Caller("kela", "kela")


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    """The key tests sign their tokens with."""
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def jwks_file(tmp_path_factory: pytest.TempPathFactory, signing_key: Ed25519PrivateKey) -> Path:
    """A JWKS file holding the public half of `signing_key`."""
    path = tmp_path_factory.mktemp("keys") / "jwks.json"
    path.write_text(json.dumps(public_jwks(signing_key)))
    return path


@pytest.fixture(scope="session")
def token_for(signing_key: Ed25519PrivateKey) -> Callable[..., str]:
    """Mint a bearer token for a client id (optionally already expired)."""

    def mint(client_id: str = "kela", lifetime: dt.timedelta = dt.timedelta(minutes=10)) -> str:
        return mint_token(signing_key, client_id, ISSUER, AUDIENCE, lifetime=lifetime)

    return mint
