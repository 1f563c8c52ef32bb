"""`silta serve` speaks HTTPS when a certificate and key are configured, with one worker or several.

The test makes a CA and a server certificate for 127.0.0.1 with `cryptography`,
starts the service as a process with SILTA_API_TLS_CERT_FILE and
SILTA_API_TLS_KEY_FILE, and calls it over HTTPS trusting that CA alone; plain
HTTP on the same port gets no answer. The service needs neither Kafka nor
PostgreSQL for this: SQLite, and the Kafka side switched off.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from broker.settings import PROJECT_ROOT
from tests.e2e.conftest import ServiceProcess, lone_service_env
from tests.support.tls import make_ca_and_server_certificate

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("workers", [1, 2])
def test_silta_serve_answers_over_https_and_not_over_plain_http(workers: int, tmp_path: Path, jwks_file: Path) -> None:
    """HTTPS verified against the test CA answers; plain HTTP on that port and an untrusting client get nothing."""
    ca_file, cert_file, key_file = make_ca_and_server_certificate(tmp_path)
    env = lone_service_env(tmp_path, jwks_file) | {
        "SILTA_API_TLS_CERT_FILE": str(cert_file),
        "SILTA_API_TLS_KEY_FILE": str(key_file),
        "SILTA_API_WORKERS": str(workers),
    }
    service = ServiceProcess(env, tmp_path / "service.log", tls_ca=ca_file)
    service.start()
    try:
        assert service.base_url.startswith("https://127.0.0.1:")
        answer = httpx.get(f"{service.base_url}/health/live", verify=service.verify(), timeout=10)
        assert (answer.status_code, answer.json()) == (200, {"status": "live"})
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{service.port}/health/live", timeout=10)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{service.base_url}/health/live", timeout=10)  # the system's CAs do not know the test CA
    finally:
        service.stop()


def test_silta_serve_refuses_to_start_with_a_certificate_but_no_key(tmp_path: Path, jwks_file: Path) -> None:
    """Half a TLS configuration is a mistake, not plain HTTP: exit 2, naming both settings."""
    _, cert_file, _ = make_ca_and_server_certificate(tmp_path)
    env = lone_service_env(tmp_path, jwks_file) | {"SILTA_API_TLS_CERT_FILE": str(cert_file)}
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "serve"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "SILTA_API_TLS_CERT_FILE and SILTA_API_TLS_KEY_FILE" in result.stderr
    assert "Traceback" not in result.stderr
