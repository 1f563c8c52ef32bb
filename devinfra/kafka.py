"""A local Apache Kafka broker from the official jars, in KRaft mode, secured.

The jars (`org.apache.kafka:kafka_2.13`) are fetched once with Maven into a
cache folder; the local CA and credentials are made; a storage folder is
formatted with the SCRAM users; one combined broker+controller process is
started on 127.0.0.1 (configuration in `devinfra.kafka_config`) and stopped
cleanly. `make run` and the test fixtures both use `LocalKafka`.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import bus_principals, desired_acls
from broker.kafka.connection import KafkaConnection
from broker.kafka.credentials import SILTA_PRINCIPAL, CredentialFolder
from devinfra.kafka_config import KafkaPorts, scram_arguments, server_properties
from devinfra.kafka_jars import KAFKA_VERSION, KafkaLaunchError, fetch_kafka_jars
from devinfra.pki import ensure_bus_credentials

_STARTED_MARKER = "Kafka Server started"

__all__ = [
    "KAFKA_VERSION",
    "KafkaLaunchError",
    "LocalKafka",
    "ServerProperties",
    "cluster_id",
    "fetch_kafka_jars",
    "start_local_kafka",
]

ServerProperties = Callable[[Path], dict[str, str]]
"""A node's `server.properties`, given the path of the broker keystore."""

_LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""


def cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.

    Never one starting with `-`: the storage tool would take it for an option and refuse to format
    (one start in 64 failed that way).
    """
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


class LocalKafka:
    """One secured Kafka process acting as broker and controller on 127.0.0.1.

    Before the first start it makes the local CA and every principal's
    credentials under `credentials` (or renews those about to expire), and
    formats the storage with a SCRAM user per principal.
    """

    def __init__(
        self,
        libs: Path,
        data_dir: Path,
        ports: KafkaPorts,
        credentials: Path | None = None,
        *,
        properties: ServerProperties | None = None,
        storage_id: str | None = None,
    ) -> None:
        self.libs = libs
        self.data_dir = data_dir
        self.ports = ports
        self.credentials = CredentialFolder((credentials or data_dir / "credentials").resolve())
        self._properties = properties or self._single_node_properties
        self._storage_id = storage_id
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def port(self) -> int:
        """The SASL_SSL listener's port."""
        return self.ports.sasl

    @property
    def bootstrap_servers(self) -> str:
        """The SASL_SSL address clients connect to."""
        return f"127.0.0.1:{self.ports.sasl}"

    @property
    def mtls_bootstrap_servers(self) -> str:
        """The address of the listener that takes client certificates."""
        return f"127.0.0.1:{self.ports.mtls}"

    def connection(self, principal: str = SILTA_PRINCIPAL, *, mtls: bool = False) -> KafkaConnection:
        """A connection to this broker as `principal` (Silta's by default), with SCRAM or its certificate."""
        servers = self.mtls_bootstrap_servers if mtls else self.bootstrap_servers
        return self.credentials.connection(principal, servers, mtls=mtls)

    @property
    def log_file(self) -> Path:
        """Where the broker's own output goes."""
        return self.data_dir / "kafka.log"

    def _write_config(self) -> Path:
        authority = ensure_bus_credentials(self.credentials, bus_principals())
        config = self.data_dir / "server.properties"
        settings = self._properties(authority.broker_keystore())
        config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        (self.data_dir / "log4j2.yaml").write_text(_LOG4J2)
        return config

    def _single_node_properties(self, keystore: Path) -> dict[str, str]:
        return server_properties(self.data_dir, self.ports, keystore, self.credentials)

    def _java(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}",
            "-cp",
            f"{self.libs}/*",
            main_class,
            *args,
        ]

    def format_storage(self) -> None:
        """Format the KRaft storage folder, unless it was formatted before."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        secured = self.data_dir / "logs" / ".secured"
        if secured.exists():
            return
        if (self.data_dir / "logs").exists():  # formatted before the bus was secured: no SCRAM users in it
            shutil.rmtree(self.data_dir / "logs")
        scram = scram_arguments(self.credentials, bus_principals())
        storage_id = self._storage_id or cluster_id()
        result = subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", storage_id, "-c", str(config), *scram),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise KafkaLaunchError(f"formatting KRaft storage failed:\n{result.stdout}{result.stderr}")
        secured.touch()

    @property
    def pid_file(self) -> Path:
        """The running broker's process id, so a later start can end a broker left behind."""
        return self.data_dir / "kafka.pid"

    def _end_left_behind_broker(self) -> None:
        """A run killed with SIGKILL leaves its broker holding the data folder and port: end it."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"kafka.Kafka" in cmdline and str(self.data_dir).encode() in cmdline:
            os.killpg(pid, signal.SIGKILL)
            time.sleep(0.5)

    def start(self, timeout_s: float = 60.0) -> None:
        """Start the broker and wait until it says it has started."""
        self.launch()
        self.wait_started(timeout_s)

    def launch(self) -> None:
        """Format the storage if needed and spawn the broker's JVM, without waiting for it.

        A node of a cluster cannot finish starting alone (its controller needs a quorum):
        launch every node first, then wait for each.
        """
        self.format_storage()
        self._end_left_behind_broker()
        config = self.data_dir / "server.properties"
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(self._process.pid))

    def wait_started(self, timeout_s: float = 60.0) -> None:
        """Wait until the launched broker says it has started; stop it and raise if it does not in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise KafkaLaunchError(f"Kafka exited early:\n{self._log_tail()}")
            with open(self.log_file, "rb") as log:
                log.seek(self._log_offset)
                if _STARTED_MARKER.encode() in log.read():
                    return
            time.sleep(0.2)
        self.stop()
        raise KafkaLaunchError(f"Kafka did not start in {timeout_s:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the broker: SIGTERM for a clean shutdown, SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def grant_party_acls(self) -> None:
        """Give every party the ACLs the party registry says (as `silta kafka acls --apply` does)."""
        asyncio.run(_apply_acls(self.connection()))

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker's process id (also its process group's) while it runs."""
        return self._process.pid if self._process is not None and self.running else None

    def kill(self) -> None:
        """End the broker at once with SIGKILL, as a crash would: no clean shutdown."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


async def _apply_acls(connection: KafkaConnection) -> None:
    async with AclAdmin(connection) as admin:
        await admin.apply(desired_acls())


def start_local_kafka(libs: Path, data_dir: Path, attempts: int = 3, credentials: Path | None = None) -> LocalKafka:
    """Start a broker on free ports, trying fresh ports if another process took one meanwhile.

    All attempts share one credentials folder (by default `data_dir/credentials`).
    """
    credentials = credentials or data_dir / "credentials"
    for attempt in range(1, attempts + 1):
        kafka = LocalKafka(libs, data_dir / f"attempt-{attempt}", KafkaPorts.free(), credentials)
        try:
            kafka.start()
        except KafkaLaunchError:
            if attempt == attempts:
                raise
            continue
        return kafka
    raise AssertionError("unreachable")
