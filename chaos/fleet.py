"""The Kafka side of a chaos run behind one small protocol, so that the single broker and the cluster both plug in.

`BrokerFleet` is what the harness needs of Kafka: where clients connect, the
credentials folder, the nodes (each can be killed, stopped, restarted, paused)
and which node leads a partition. `SingleBroker` wraps today's `LocalKafka`;
`chaos.cluster_fleet.ClusterFleet` wraps the three-node `devinfra.cluster.LocalCluster`.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from typing import Protocol

from broker.kafka.connection import KafkaConnection
from broker.kafka.credentials import SILTA_PRINCIPAL, CredentialFolder
from devinfra.kafka import LocalKafka


class BrokerNode(Protocol):
    """One Kafka process the faults act on."""

    @property
    def node_id(self) -> int:
        """The node's KRaft id."""

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""

    async def kill(self) -> None:
        """SIGKILL, as in a crash."""

    async def stop(self) -> None:
        """A clean shutdown."""

    async def restart(self) -> None:
        """Start again after `kill` or `stop` (or stop cleanly first if running), same data, same ports."""

    async def pause(self) -> None:
        """SIGSTOP."""

    async def resume(self) -> None:
        """SIGCONT."""


class BrokerFleet(Protocol):
    """The Kafka brokers of a run."""

    @property
    def bootstrap_servers(self) -> str:
        """The SASL_SSL addresses clients bootstrap from."""

    @property
    def mtls_bootstrap_servers(self) -> str:
        """The mutual-TLS addresses (as the brokers advertise them)."""

    @property
    def credentials(self) -> CredentialFolder:
        """Every principal's bus credentials."""

    @property
    def nodes(self) -> Sequence[BrokerNode]:
        """The broker processes."""

    async def leader_of(self, topic: str, partition: int) -> int:
        """The node id leading a partition now."""

    async def topics_ready(self, names: list[str]) -> None:
        """Return once every node serves the named topics (just created) with all their replicas."""


def long_outage_s(fleet: BrokerFleet) -> float:
    """How long one broker is kept down: 30 s with other brokers to fail over to, 5 s with one broker."""
    return 30.0 if len(fleet.nodes) > 1 else 5.0


def connection(fleet: BrokerFleet, principal: str = SILTA_PRINCIPAL) -> KafkaConnection:
    """A SCRAM connection to the fleet as `principal`."""
    return fleet.credentials.connection(principal, fleet.bootstrap_servers)


class SingleNode:
    """The one broker of a `LocalKafka`, as a fleet node."""

    node_id = 1

    def __init__(self, kafka: LocalKafka) -> None:
        self._kafka = kafka

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return int(self._kafka.pid_file.read_text()) if self._kafka.running else None

    def _signal(self, number: signal.Signals) -> None:
        pid = self.pid
        if pid is not None:
            os.killpg(pid, number)

    async def kill(self) -> None:
        """SIGKILL the broker's process group."""
        self._signal(signal.SIGKILL)
        await asyncio.to_thread(self._kafka.stop)

    async def stop(self) -> None:
        """SIGTERM and wait for the clean shutdown."""
        self._signal(signal.SIGCONT)  # a paused broker cannot shut down
        await asyncio.to_thread(self._kafka.stop)

    async def restart(self) -> None:
        """Stop if running, then start on the same data and ports."""
        await self.stop()
        await asyncio.to_thread(self._kafka.start, 120.0)

    async def pause(self) -> None:
        """SIGSTOP the broker."""
        self._signal(signal.SIGSTOP)

    async def resume(self) -> None:
        """SIGCONT the broker."""
        self._signal(signal.SIGCONT)


class SingleBroker:
    """Today's single local broker as a `BrokerFleet`."""

    def __init__(self, kafka: LocalKafka) -> None:
        self.kafka = kafka
        self._nodes = [SingleNode(kafka)]

    @property
    def bootstrap_servers(self) -> str:
        """The broker's SASL_SSL address."""
        return self.kafka.bootstrap_servers

    @property
    def mtls_bootstrap_servers(self) -> str:
        """The broker's mutual-TLS address."""
        return self.kafka.mtls_bootstrap_servers

    @property
    def credentials(self) -> CredentialFolder:
        """The broker's credentials folder."""
        return self.kafka.credentials

    @property
    def nodes(self) -> Sequence[BrokerNode]:
        """The one node."""
        return self._nodes

    async def leader_of(self, topic: str, partition: int) -> int:
        """Node 1: the only broker leads every partition."""
        return 1

    async def topics_ready(self, names: list[str]) -> None:
        """At once: the one broker serves a topic once it is created."""
