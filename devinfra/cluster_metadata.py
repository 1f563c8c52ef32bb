"""What the local cluster says about itself: registered brokers, and each partition's leader, replicas and ISR.

Asked over one aiokafka connection straight to a node's own listener (never
through the proxies a fault test puts in front of the advertised addresses),
trying the nodes in turn until one answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

from broker.kafka.connection import KafkaConnection

_TIMEOUT_S = 10.0


class ClusterUnreachableError(RuntimeError):
    """No node of the cluster answered a metadata request."""


@dataclass(frozen=True)
class PartitionState:
    """One partition as the controller last told the node that answered."""

    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True)
class ClusterView:
    """The registered (unfenced) brokers and every partition's state."""

    brokers: frozenset[int]
    partitions: dict[tuple[str, int], PartitionState]

    def partition(self, topic: str, partition: int) -> PartitionState:
        """The state of one partition; `KeyError` if the topic or partition does not exist."""
        return self.partitions[(topic, partition)]

    def in_sync_everywhere(self, node_id: int) -> bool:
        """The node is registered and in the ISR of every partition that has it as a replica."""
        return node_id in self.brokers and all(
            node_id in state.isr for state in self.partitions.values() if node_id in state.replicas
        )

    def topics_in_sync(self, names: set[str]) -> bool:
        """Every named topic exists and each of its partitions has a leader and all its replicas in sync."""
        states = [state for state in self.partitions.values() if state.topic in names]
        return names <= {state.topic for state in states} and all(
            state.leader >= 0 and set(state.isr) == set(state.replicas) for state in states
        )


def parse_view(metadata: dict[str, Any]) -> ClusterView:
    """A `ClusterView` from a metadata response's `to_object()`."""
    partitions = {
        (topic["topic"], p["partition"]): PartitionState(
            topic["topic"], p["partition"], p["leader"], tuple(p["replicas"]), tuple(p["isr"])
        )
        for topic in metadata["topics"]
        for p in topic["partitions"]
    }
    return ClusterView(frozenset(b["node_id"] for b in metadata["brokers"]), partitions)


async def fetch_view(connection: KafkaConnection) -> ClusterView:
    """The view of the first of the connection's servers that answers."""
    options = connection.client_options()
    servers = [server for server in options.pop("bootstrap_servers").split(",") if server]
    for server in servers:
        host, port = server.rsplit(":", 1)
        try:
            async with asyncio.timeout(_TIMEOUT_S):
                return parse_view(await _metadata(host, int(port), options))
        except (KafkaError, OSError, TimeoutError):
            continue
    raise ClusterUnreachableError(f"no node answered at {servers}")


async def _metadata(host: str, port: int, options: dict[str, Any]) -> dict[str, Any]:
    conn = await create_conn(host, port, request_timeout_ms=int(_TIMEOUT_S * 1000), **options)
    try:
        response = await conn.send(MetadataRequest(None, allow_auto_topic_creation=False))
    finally:
        conn.close()
    metadata: dict[str, Any] = response.to_object()
    return metadata
