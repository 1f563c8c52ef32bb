"""`silta serve` speaks HTTPS when a certificate and key are configured, with one worker or several.

The test makes a CA and a server certificate for 127.0.0.1 with `cryptography`,
starts the service as a process with SILTA_API_TLS_CERT_FILE and
SILTA_API_TLS_KEY_FILE, and calls it over HTTPS trusting that CA alone; plain
HTTP on the same port gets no answer. The service needs neither Kafka nor
PostgreSQL for this: SQLite, and the Kafka side switched off.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from broker.settings import PROJECT_ROOT
from tests.e2e.conftest import ServiceProcess, lone_service_env

pytestmark = pytest.mark.e2e


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    """A certificate to sign: names, key and an hour of validity."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
    )


def make_ca_and_server_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signed for IP 127.0.0.1: (CA file, cert file, key file)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        _certificate("Silta test CA", "Silta test CA", ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        _certificate("127.0.0.1", "Silta test CA", server_key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    ca_file.write_bytes(ca.public_bytes(Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(Encoding.PEM))
    key_file.write_bytes(server_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


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
