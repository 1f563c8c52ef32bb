"""Schemathesis, all checks, against the service as a separate process: the API does what its OpenAPI says."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from broker.settings import PROJECT_ROOT
from devinfra.samples import EXAMPLE_ATTACHMENT, application_transfer
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


def _seed(base_url: str, token: str) -> dict[str, str]:
    """A message and an attachment Kela may see, so that the id routes also answer 200 and not only 404."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        pdf = EXAMPLE_ATTACHMENT.read_bytes()
        attachment = client.post("/kela/v1/attachments", content=pdf, headers={"Content-Type": "application/pdf"})
        message = client.post(
            "/kela/v1/messages", content=application_transfer(), headers={"Content-Type": "application/xml"}
        )
    assert (attachment.status_code, message.status_code) == (201, 202), attachment.text + message.text
    return {"attachment_id": attachment.json()["attachment_id"], "message_id": message.json()["message_id"]}


def _config(seeded: dict[str, str], path: Path) -> Path:
    """The shared settings, plus the seeded ids as dictionaries used for half of each id parameter's values."""
    lines = [CONFIG.read_text(), "[parameters]"]
    for name in seeded:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    for name, value in seeded.items():
        lines += [f"[dictionaries.{name}]", f'values = ["{value}"]']
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_service_keeps_its_openapi_contract(
    service: ServiceProcess, signing_key: Ed25519PrivateKey, token_for: Callable[..., str], tmp_path: Path
) -> None:
    """`schemathesis run --checks all`: no 5xx, documented statuses, media types and bodies, auth enforced."""
    service.start()
    config = _config(_seed(service.base_url, token_for()), tmp_path / "schemathesis.toml")
    env = {
        **os.environ,
        KEY_FILE_VARIABLE: str(_write_key(signing_key, tmp_path / "signing-key.pem")),
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
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
