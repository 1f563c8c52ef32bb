"""The running service trusts a token key added to its JWKS file after start, without a restart."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.tokens import mint_token, public_jwks
from broker.settings import Settings
from tests.conftest import AUDIENCE, ISSUER
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The integration settings with a JWKS file of this test's own (a copy of the session's), re-read often."""
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(settings.auth_jwks_file.read_text())
    return settings.model_copy(update={"auth_jwks_file": jwks_file, "auth_jwks_min_reread_s": 0.2})


def _add_key(jwks_file: Path, key: Ed25519PrivateKey, kid: str) -> None:
    document = json.loads(jwks_file.read_text())
    document["keys"].append(public_jwks(key, kid)["keys"][0])
    jwks_file.write_text(json.dumps(document))


async def test_a_key_added_to_the_jwks_file_after_start_is_trusted(api: httpx.AsyncClient, settings: Settings) -> None:
    """A token from a new key is refused while the file lacks it and accepted once the file has it (no restart)."""
    key = Ed25519PrivateKey.generate()
    headers = {"Authorization": f"Bearer {mint_token(key, 'kela', ISSUER, AUDIENCE, key_id='idp-rotated-2')}"}
    path = f"/kela/v1/messages/{uuid.uuid4()}"
    refused = await api.get(path, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (401, "token-invalid")
    _add_key(settings.auth_jwks_file, key, "idp-rotated-2")

    async def accepted() -> bool:
        answer = await api.get(path, headers=headers)
        return answer.status_code == 404  # authenticated: the message is merely unknown

    await wait_until(accepted, 5, interval_s=0.05, what="the new key trusted")
