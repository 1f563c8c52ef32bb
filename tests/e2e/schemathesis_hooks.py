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

from adapters.access import Role, roles_of
from broker.crypto.assertions import ASSERTION_HEADER, mint_guardian_assertion
from broker.crypto.tokens import mint_token
from tests.conftest import AUDIENCE, GUARDIAN_AUDIENCE, GUARDIAN_ISSUER, ISSUER
from tests.support.clients import CLIENT_OF_ROLE

KEY_FILE_VARIABLE = "SILTA_SCHEMATHESIS_KEY_FILE"


def _key() -> Ed25519PrivateKey:
    key = load_pem_private_key(Path(os.environ[KEY_FILE_VARIABLE]).read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def credentials_for(method: str, path: str, key: Ed25519PrivateKey) -> dict[str, str]:
    """The headers of a client the role table admits to the operation (the portal's with a fresh assertion)."""
    role = min(roles_of(method, path), key=list(Role).index, default=Role.KELA)
    client = CLIENT_OF_ROLE[role]
    headers = {"Authorization": f"Bearer {mint_token(key, client, ISSUER, AUDIENCE)}"}
    if role is Role.GUARDIAN_PORTAL:
        headers[ASSERTION_HEADER] = mint_guardian_assertion(key, "edv-0001", client, GUARDIAN_ISSUER, GUARDIAN_AUDIENCE)
    return headers


@schemathesis.auth(refresh_interval=None)  # a guardian assertion is single-use: mint for every request
class SiltaCredentials:
    """Valid credentials for every generated request; Schemathesis removes or spoils them to test refusals."""

    def __init__(self) -> None:
        self._key = _key()

    def get(self, case: schemathesis.Case[Any], _context: schemathesis.AuthContext) -> dict[str, str]:
        """Mint the headers for the case's route."""
        return credentials_for(case.operation.method, case.operation.path, self._key)

    def set(self, case: schemathesis.Case[Any], data: dict[str, str], _context: schemathesis.AuthContext) -> None:
        """Put the headers on the request."""
        case.headers.update(data)
