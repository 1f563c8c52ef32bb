"""Schemathesis hooks for the e2e contract run: fresh, valid credentials for each route's kind of caller.

Loaded by the `schemathesis` process (SCHEMATHESIS_HOOKS); the test passes the
signing key's PEM file in SILTA_SCHEMATHESIS_KEY_FILE.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from broker.crypto.assertions import ASSERTION_HEADER, mint_guardian_assertion
from broker.crypto.tokens import mint_token
from tests.conftest import AUDIENCE, GUARDIAN_AUDIENCE, GUARDIAN_ISSUER, ISSUER

KEY_FILE_VARIABLE = "SILTA_SCHEMATHESIS_KEY_FILE"


def _key() -> Ed25519PrivateKey:
    key = load_pem_private_key(Path(os.environ[KEY_FILE_VARIABLE]).read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def credentials_for(path: str, key: Ed25519PrivateKey) -> dict[str, str]:
    """The headers of the caller a route is for: the portal (with a fresh assertion), the admin, or Kela."""
    if path.startswith("/guardian/v1/"):
        assertion = mint_guardian_assertion(key, "edv-0001", "guardian-portal", GUARDIAN_ISSUER, GUARDIAN_AUDIENCE)
        token = mint_token(key, "guardian-portal", ISSUER, AUDIENCE)
        return {"Authorization": f"Bearer {token}", ASSERTION_HEADER: assertion}
    client = "silta-admin" if path.startswith("/admin/v1/") else "kela"
    return {"Authorization": f"Bearer {mint_token(key, client, ISSUER, AUDIENCE)}"}


@schemathesis.auth(refresh_interval=None)  # a guardian assertion is single-use: mint for every request
class SiltaCredentials:
    """Valid credentials for every generated request; Schemathesis removes or spoils them to test refusals."""

    def __init__(self) -> None:
        self._key = _key()

    def get(self, case: schemathesis.Case[Any], _context: schemathesis.AuthContext) -> dict[str, str]:
        """Mint the headers for the case's route."""
        return credentials_for(case.operation.path, self._key)

    def set(self, case: schemathesis.Case[Any], data: dict[str, str], _context: schemathesis.AuthContext) -> None:
        """Put the headers on the request."""
        case.headers.update(data)
