"""`make run`: a local Apache Kafka, the development keys, a migrated SQLite database and the API.

A development launcher, not part of the installed package: `python -m devinfra.run`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from broker.settings import PROJECT_ROOT, Settings
from devinfra.kafka import LocalKafka, fetch_kafka_jars
from devinfra.kafka_config import KafkaPorts
from entrypoints.cli import ensure_local_keys, prepare_local_store, serve


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run(kafka_data: Path) -> int:
    """`make run`: a local Kafka, the dev keys, the migrated SQLite database and the API; Ctrl-C stops all."""
    # SIGTERM (`kill`, a service manager) ends the run as Ctrl-C does, so the broker is stopped below;
    # uvicorn handles it itself while serving and raises it again once it has shut down.
    signal.signal(signal.SIGTERM, _interrupt)
    settings = Settings()
    ensure_local_keys(settings)
    asyncio.run(prepare_local_store(settings))
    port = int(settings.kafka_bootstrap_servers.rsplit(":", 1)[1])
    print(f"silta: starting Apache Kafka on 127.0.0.1:{port} (first run fetches the jars with Maven)", flush=True)
    mtls_port = int(settings.kafka_mtls_bootstrap_servers.rsplit(":", 1)[1])
    ports = KafkaPorts.free(sasl=port, mtls=mtls_port)
    kafka = LocalKafka(
        fetch_kafka_jars(PROJECT_ROOT / ".cache"), kafka_data.resolve(), ports, settings.kafka_credentials_dir
    )
    try:
        kafka.start()
        kafka.grant_party_acls()
        print(f"silta: Kafka is up; API on http://{settings.api_host}:{settings.api_port}", flush=True)
        serve(settings)
    except KeyboardInterrupt:
        pass
    finally:
        print("silta: stopping Kafka", flush=True)
        kafka.stop()
    return 0


def main() -> int:
    """Parse `--kafka-data` and run everything until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m devinfra.run", description=__doc__)
    parser.add_argument("--kafka-data", type=Path, default=Path(".silta/kafka"), help="the local broker's data folder")
    return run(parser.parse_args().kafka_data.resolve())


if __name__ == "__main__":
    sys.exit(main())
