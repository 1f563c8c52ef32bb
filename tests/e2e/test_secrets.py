"""No token, assertion or key reaches the service's log, its answers or /health, whatever a caller sends.

The service runs as a process at its default log level (INFO, JSON), as in
production; the test sends good and bad credentials, then reads everything
the process wrote.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.assertions import ASSERTION_HEADER, mint_guardian_assertion
from broker.crypto.tokens import mint_token
from tests.conftest import AUDIENCE, GUARDIAN_AUDIENCE, GUARDIAN_ISSUER, ISSUER
from tests.e2e.conftest import ServiceProcess, lone_service_env

pytestmark = pytest.mark.e2e


def _credentials(key: Ed25519PrivateKey) -> dict[str, str]:
    """A good token, an expired one, one signed by a foreign key, and a guardian assertion."""
    return {
        "good": mint_token(key, "kela", ISSUER, AUDIENCE),
        "expired": mint_token(key, "kela", ISSUER, AUDIENCE, lifetime=dt.timedelta(seconds=-5)),
        "foreign": mint_token(Ed25519PrivateKey.generate(), "kela", ISSUER, AUDIENCE),
        "portal": mint_token(key, "guardian-portal", ISSUER, AUDIENCE),
        "assertion": mint_guardian_assertion(key, "edv-0001", "guardian-portal", GUARDIAN_ISSUER, GUARDIAN_AUDIENCE),
    }


def _calls(base_url: str, secrets: dict[str, str]) -> list[httpx.Response]:
    """Admitted, refused and failing calls with each credential, and both health routes."""
    portal = {"Authorization": f"Bearer {secrets['portal']}", ASSERTION_HEADER: secrets["assertion"]}
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answers = [
            client.get("/kela/v1/inbox", headers={"Authorization": f"Bearer {secrets[name]}"})
            for name in ("good", "expired", "foreign")
        ]
        good = {"Authorization": f"Bearer {secrets['good']}"}
        answers.append(client.post("/kela/v1/disclosure-queries", json={}, headers=good))  # Kela's back office: 403
        answers.append(client.get("/guardian/v1/principals", headers=portal))
        answers.append(client.get("/guardian/v1/principals", headers=portal))  # the assertion again: replayed
        answers += [client.get("/health/live"), client.get("/health/ready")]
    return answers


def test_credentials_never_reach_the_log_or_an_answer(
    tmp_path: Path, jwks_file: Path, signing_key: Ed25519PrivateKey
) -> None:
    """Each token and the assertion (whole, or its signature) is absent from the log and every answer body."""
    secrets = _credentials(signing_key)
    service = ServiceProcess(lone_service_env(tmp_path, jwks_file), tmp_path / "service.log")
    service.start()
    try:
        answers = _calls(service.base_url, secrets)
    finally:
        service.stop()
    assert [a.status_code for a in answers[:6]] == [200, 401, 401, 403, 200, 401]
    assert set(answers[-1].json()) == {"status", "checks", "stalled_partitions"}
    log = service.log.read_text()
    assert '"event": "request_rejected"' in log
    for name, secret in secrets.items():
        signature = secret.rsplit(".", 1)[-1]
        for where, text in [("the log", log), *((a.request.url.path, a.text) for a in answers)]:
            assert signature not in text, f"the {name} credential is in {where}"
