"""The single local broker with its mutual-TLS listener advertised at a proxy's port.

A client given only a proxy as bootstrap address would still reach the broker
directly afterwards, at the address the broker advertises. So the broker here
advertises its MTLS listener at the proxy's port: a client on that listener
(one Silta instance) goes through the proxy for every connection, while every
other client uses the SASL_SSL listener directly. The three-node cluster's
`advertised_port_override` does the same for a node; this stands in for it
with one broker.
"""

from __future__ import annotations

from pathlib import Path

from devinfra.kafka import LocalKafka
from devinfra.kafka_config import KafkaPorts


class MtlsThroughProxyKafka(LocalKafka):
    """`LocalKafka` whose `advertised.listeners` names `proxy_port` for the MTLS listener."""

    def __init__(self, libs: Path, data_dir: Path, ports: KafkaPorts, credentials: Path, proxy_port: int) -> None:
        super().__init__(libs, data_dir, ports, credentials)
        self.proxy_port = proxy_port

    def _write_config(self) -> Path:
        config = super()._write_config()
        direct, proxied = f"MTLS://127.0.0.1:{self.ports.mtls}", f"MTLS://127.0.0.1:{self.proxy_port}"
        lines = [
            line.replace(direct, proxied) if line.startswith("advertised.listeners=") else line
            for line in config.read_text().splitlines()
        ]
        config.write_text("\n".join(lines) + "\n")
        return config
