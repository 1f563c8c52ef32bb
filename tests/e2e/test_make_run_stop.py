"""`make run` stopped by SIGTERM, as a service manager or `kill` stops it, takes its Kafka broker with it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devinfra.ports import free_port
from tests.e2e.conftest import local_files_env
from tests.support.waiting import wait_until_sync

pytestmark = pytest.mark.e2e


def _run_env(tmp_path: Path) -> dict[str, str]:
    """`make run`'s environment with the broker it starts itself on free ports."""
    return local_files_env(tmp_path) | {
        "SILTA_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "SILTA_KAFKA_MTLS_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "SILTA_KAFKA_CREDENTIALS_DIR": str(tmp_path / "credentials"),
    }


def test_sigterm_stops_the_service_and_its_kafka_broker(tmp_path: Path) -> None:
    """After SIGTERM the launcher exits 0 and the broker process it started is gone, not left holding the port."""
    env, kafka_data = _run_env(tmp_path), tmp_path / "kafka"
    with open(tmp_path / "run.log", "wb") as log:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "devinfra.run", "--kafka-data", str(kafka_data)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        live = f"http://127.0.0.1:{env['SILTA_API_PORT']}/health/live"
        wait_until_sync(lambda: _answers(live, launcher), 120, interval_s=0.2, what="make run's service answering")
        broker_pid = int((kafka_data / "kafka.pid").read_text())
        assert _alive(broker_pid)
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=90) == 0
        wait_until_sync(lambda: not _alive(broker_pid), 30, what="the broker process to end")
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert "silta: stopping Kafka" in (tmp_path / "run.log").read_text()


def _answers(url: str, launcher: subprocess.Popen[bytes]) -> bool:
    if launcher.poll() is not None:
        raise RuntimeError(f"make run exited with {launcher.returncode}")
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    """Whether `pid` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
