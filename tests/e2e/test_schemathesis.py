"""Schemathesis, all checks, against the service as a separate process: the API does what its OpenAPI says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from broker.settings import PROJECT_ROOT
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = "tests.e2e.schemathesis_hooks"  # not imported here: importing registers its auth in this process
KEY_FILE_VARIABLE = "SILTA_SCHEMATHESIS_KEY_FILE"
MAX_EXAMPLES = "20"  # per operation and phase: about a minute on a shared CI machine
SEED = "20261202"  # a fixed seed: CI runs the same cases; change it (or run by hand) to explore further


def _write_key(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


def test_the_service_keeps_its_openapi_contract(
    service: ServiceProcess, signing_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """`schemathesis run --checks all`: no 5xx, documented statuses, media types and bodies, auth enforced."""
    service.start()
    env = {
        **os.environ,
        KEY_FILE_VARIABLE: str(_write_key(signing_key, tmp_path / "signing-key.pem")),
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{service.base_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    (tmp_path / "schemathesis.log").write_text(result.stdout + result.stderr)  # the whole report, kept with the test
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
