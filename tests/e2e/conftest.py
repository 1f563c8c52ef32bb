"""The service as a separate process, the way it runs in production."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.settings import PROJECT_ROOT
from devinfra.kafka import LocalKafka, fetch_kafka_jars, start_local_kafka
from devinfra.ports import free_port
from tests.conftest import AUDIENCE, CLIENTS, ISSUER
from tests.support.clients import CLIENT_ROLES
from tests.support.waiting import wait_until_sync


@pytest.fixture(scope="session", autouse=True)
def child_bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Let the child Python processes (the service, `silta` commands) share compiled bytecode.

    With PYTHONDONTWRITEBYTECODE set, as on this project's machines and in its
    image, every child compiled all of its modules afresh (seconds of CPU
    each, for some seventeen children). They now write and read bytecode
    under a folder of the session's own (PYTHONPYCACHEPREFIX), never into
    the working tree; the test process itself is unchanged.
    """
    cache = tmp_path_factory.mktemp("pycache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPYCACHEPREFIX", str(cache))
        patch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        yield cache


class ServiceProcess:
    """`silta serve` in a child process, with its settings in the environment.

    With `tls_ca`, the service is expected to serve HTTPS with a certificate that CA signed.
    """

    def __init__(self, env: dict[str, str], log: Path, *, tls_ca: Path | None = None) -> None:
        self.env = env
        self.log = log
        self.port = int(env["SILTA_API_PORT"])
        self.tls_ca = tls_ca
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Where the API answers."""
        return f"{'https' if self.tls_ca else 'http'}://127.0.0.1:{self.port}"

    def verify(self) -> ssl.SSLContext | bool:
        """What an HTTP client of the service verifies its certificate with."""
        return ssl.create_default_context(cafile=self.tls_ca) if self.tls_ca else True

    def start(self, **overrides: str) -> None:
        """Start the service and wait until /health/live answers."""
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli", "serve"],
                env={**self.env, **overrides},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_sync(self._live, 90, interval_s=0.05, what=f"the service answering /health/live; see {self.log}")

    def _live(self) -> bool:
        """True once /health/live answers 200; fails at once if the process has exited."""
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"the service exited with {self._process.returncode}; see {self.log}")
        try:
            return httpx.get(f"{self.base_url}/health/live", timeout=1, verify=self.verify()).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, as in a crash."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None


def bus_env(kafka: LocalKafka) -> dict[str, str]:
    """The settings that point a process at a local broker and its credentials folder."""
    return {
        "SILTA_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "SILTA_KAFKA_MTLS_BOOTSTRAP_SERVERS": kafka.mtls_bootstrap_servers,
        "SILTA_KAFKA_CREDENTIALS_DIR": str(kafka.credentials.root),
    }


@pytest.fixture
def service(database_url: str, kafka: LocalKafka, jwks_file: Path, tmp_path: Path) -> Iterator[ServiceProcess]:
    """A service process on the test servers; stopped after the test."""
    env = {
        **os.environ,
        "SILTA_DATABASE_URL": database_url,
        **bus_env(kafka),
        "SILTA_API_PORT": str(free_port()),
        "SILTA_AUTH_JWKS_FILE": str(jwks_file),
        "SILTA_AUTH_ISSUER": ISSUER,
        "SILTA_AUTH_AUDIENCE": AUDIENCE,
        "SILTA_AUTH_CLIENTS": json.dumps(CLIENTS),
        "SILTA_AUTH_CLIENT_ROLES": json.dumps(CLIENT_ROLES),
        "SILTA_RELAY_POLL_INTERVAL_S": "0.2",
        "SILTA_AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl"),
    }
    process = ServiceProcess(env, tmp_path / "service.log")
    yield process
    process.stop()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[LocalKafka]:
    """A Kafka broker of the test's own, as empty as `make run`'s on a first run; stopped after the test."""
    broker = start_local_kafka(fetch_kafka_jars(PROJECT_ROOT / ".cache"), tmp_path / "kafka")
    broker.grant_party_acls()
    yield broker
    broker.stop()


def make_run_env(kafka: LocalKafka, tmp_path: Path) -> dict[str, str]:
    """`make run`'s environment: every setting at its default, but free ports and the files under `tmp_path`."""
    return local_files_env(tmp_path) | bus_env(kafka)


def local_files_env(tmp_path: Path) -> dict[str, str]:
    """`make run`'s environment without the bus: SQLite, keys and checkpoints under `tmp_path`, a free API port."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SILTA_")}
    return env | {
        "SILTA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'silta.db'}",
        "SILTA_API_PORT": str(free_port()),
        "SILTA_DEV_SIGNING_KEY_FILE": str(tmp_path / "dev-signing-key.pem"),
        "SILTA_AUTH_JWKS_FILE": str(tmp_path / "jwks.json"),
        "SILTA_PSEUDONYM_KEY_FILE": str(tmp_path / "pseudonym.key"),
        "SILTA_CONSOLE_SESSION_KEY_FILE": str(tmp_path / "console-session.key"),
        "SILTA_KEY_DIR": str(tmp_path / "keys"),
        "SILTA_PARTY_KEYS_DIR": str(tmp_path / "party-keys"),
        "SILTA_AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl"),
    }


def lone_service_env(tmp_path: Path, jwks_file: Path) -> dict[str, str]:
    """The service on SQLite under `tmp_path`, on a free port, with no Kafka side: for tests of the REST edge only."""
    return {
        **os.environ,
        "SILTA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'silta.db'}",
        "SILTA_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "SILTA_KAFKA_CREATE_TOPICS": "false",
        "SILTA_RELAY_ENABLED": "false",
        "SILTA_INBOUND_ENABLED": "false",
        "SILTA_API_PORT": str(free_port()),
        "SILTA_AUTH_JWKS_FILE": str(jwks_file),
        "SILTA_AUTH_ISSUER": ISSUER,
        "SILTA_AUTH_AUDIENCE": AUDIENCE,
        "SILTA_AUTH_CLIENTS": json.dumps(CLIENTS),
        "SILTA_AUTH_CLIENT_ROLES": json.dumps(CLIENT_ROLES),
        "SILTA_AUDIT_CHECKPOINT_FILE": str(tmp_path / "audit-checkpoints.jsonl"),
    }
