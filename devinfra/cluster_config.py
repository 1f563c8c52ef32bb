"""The configuration of one node of the local three-node cluster (`devinfra.cluster`).

Each node is a combined broker and controller; the three controllers form the
KRaft quorum. Listeners and security are those of the single broker
(`devinfra.kafka_config`): TLS everywhere, SCRAM or a client certificate, deny
by default, no plaintext listener. Durability is a cluster's: replication
factor 3 and `min.insync.replicas=2` for every topic, the internal ones too,
and no unclean leader election, so an acknowledged record survives the loss of
any one node.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.kafka.credentials import CredentialFolder
from devinfra.kafka_config import KafkaPorts, security_properties

HOST = "127.0.0.1"
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2


@dataclass(frozen=True)
class NodeLayout:
    """Where one node listens, and which ports it advertises to clients on its SASL_SSL and MTLS listeners."""

    node_id: int
    ports: KafkaPorts
    advertised_sasl_port: int
    advertised_mtls_port: int | None = None
    """A proxy's port for the MTLS listener; None: its own."""

    @property
    def client_listeners(self) -> str:
        """The listeners clients and the other brokers reach, as bound."""
        ports = self.ports
        return f"SASL_SSL://{HOST}:{ports.sasl},MTLS://{HOST}:{ports.mtls},INTERNAL://{HOST}:{ports.internal}"

    @property
    def advertised_listeners(self) -> str:
        """The listeners as clients are told to reach them (SASL_SSL or MTLS perhaps through a proxy)."""
        ports = self.ports
        sasl = f"SASL_SSL://{HOST}:{self.advertised_sasl_port}"
        mtls = f"MTLS://{HOST}:{self.advertised_mtls_port or ports.mtls}"
        return f"{sasl},{mtls},INTERNAL://{HOST}:{ports.internal}"


def quorum_voters(layouts: list[NodeLayout]) -> str:
    """`controller.quorum.voters`: every node's id and controller address."""
    return ",".join(f"{n.node_id}@{HOST}:{n.ports.controller}" for n in layouts)


def node_properties(
    layout: NodeLayout, voters: str, data_dir: Path, keystore: Path, folder: CredentialFolder
) -> dict[str, str]:
    """`server.properties` of one combined broker and controller of the cluster."""
    return {
        "process.roles": "broker,controller",
        "node.id": str(layout.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"{layout.client_listeners},CONTROLLER://{HOST}:{layout.ports.controller}",
        "advertised.listeners": layout.advertised_listeners,
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,MTLS:SSL,INTERNAL:SSL,CONTROLLER:SSL",
        "inter.broker.listener.name": "INTERNAL",
        "controller.listener.names": "CONTROLLER",
        **security_properties(keystore, folder),
        **replicated_storage(data_dir),
        **_failure_detection(),
    }


def replicated_storage(data_dir: Path) -> dict[str, str]:
    """Replication factor 3 and two in-sync replicas for every topic, Silta's and Kafka's own."""
    rf, min_isr = str(REPLICATION_FACTOR), str(MIN_INSYNC_REPLICAS)
    return {
        "log.dirs": str(data_dir / "logs"),
        "num.partitions": "3",
        "default.replication.factor": rf,
        "min.insync.replicas": min_isr,
        "unclean.leader.election.enable": "false",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": "0",
    }


def _failure_detection() -> dict[str, str]:
    # A killed node is fenced (and leaves every ISR) after the session timeout: 6 s instead of 9 s
    # keeps fault tests short without fencing a node that is only slow on a busy machine.
    return {"broker.session.timeout.ms": "6000", "broker.heartbeat.interval.ms": "1000"}
