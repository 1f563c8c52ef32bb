"""The README's quick start, step by step, with the `silta` commands it shows."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from broker.devinfra.kafka import LocalKafka
from broker.devinfra.ports import free_port
from broker.settings import PROJECT_ROOT
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.e2e
EXAMPLE = PROJECT_ROOT / "schemas" / "examples" / "valid" / "application-transfer.xml"
EXAMPLE_ID = "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f"


def _silta(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "broker.cli", *args], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


def _listen_until(env: dict[str, str], message_id: str, timeout_s: float = 60) -> str:
    """Run `silta org listen --org hva-90` until the line of `message_id` appears; that line."""
    group = f"readme-{time.time()}"
    command = [sys.executable, "-m", "broker.cli", "org", "listen", "--org", "hva-90", "--group", group]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as listener:
        watchdog = threading.Timer(timeout_s, listener.kill)  # ends the read loop below if nothing comes
        watchdog.start()
        try:
            assert listener.stdout is not None
            for line in listener.stdout:
                if message_id in line:
                    return line.rstrip("\n")
        finally:
            watchdog.cancel()
            listener.kill()
    raise AssertionError(f"{message_id} never arrived")


def test_quick_start(database_url: str, kafka: LocalKafka, tmp_path: Path) -> None:
    """The README's steps: keys, a token for Kela, POST the example, `silta org listen` shows it, status published."""
    env = {
        **os.environ,
        "SILTA_DATABASE_URL": database_url,
        "SILTA_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "SILTA_API_PORT": str(free_port()),
        "SILTA_DEV_SIGNING_KEY_FILE": str(tmp_path / "dev-signing-key.pem"),
        "SILTA_AUTH_JWKS_FILE": str(tmp_path / "jwks.json"),
        "SILTA_RELAY_POLL_INTERVAL_S": "0.2",
    }
    _silta(env, "keys", "init")
    service = ServiceProcess(env, tmp_path / "service.log")
    service.start()
    try:
        token = _silta(env, "token", "--client", "kela")
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(
            f"{service.base_url}/kela/v1/messages",
            content=EXAMPLE.read_bytes(),
            headers={**headers, "Content-Type": "application/xml"},
        )
        assert answer.status_code == 202
        assert answer.json() == {"message_id": EXAMPLE_ID, "status_url": f"/kela/v1/messages/{EXAMPLE_ID}"}
        line = _listen_until(env, EXAMPLE_ID)
        assert line == f"application-transfer\t{EXAMPLE_ID}\tKELA-TOTU-2025-000123"
        status = httpx.get(f"{service.base_url}{answer.json()['status_url']}", headers=headers).json()
        assert (status["status"], status["recipient"]) == ("published", "hva-90")
        assert _silta(env, "audit", "verify").startswith("ok:")
    finally:
        service.stop()
