"""The three-node local cluster as the `BrokerFleet` of a chaos run, one instance's traffic through proxies.

Each node advertises its mutual-TLS listener at a proxy's port
(`advertised_mtls_override`), and the proxies forward to the nodes' own MTLS
ports. The proxied instance speaks mutual TLS, so every connection it makes
(bootstrap and each leader it is sent to) goes through a proxy; every other
client (the other instance, the organisers, Kela, the checker) uses the
SASL_SSL listeners directly. The network faults act on the proxies together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from broker.kafka.credentials import CredentialFolder
from chaos.fleet import BrokerNode
from chaos.proxy import ProxyGroup, TcpProxy
from devinfra.cluster import NODE_IDS, LocalCluster, local_cluster
from devinfra.cluster_config import HOST
from devinfra.ports import free_port


class ClusterFleet:
    """A started `LocalCluster` as a `BrokerFleet`."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster

    @property
    def bootstrap_servers(self) -> str:
        """All three nodes' SASL_SSL addresses."""
        return self.cluster.bootstrap_servers

    @property
    def mtls_bootstrap_servers(self) -> str:
        """All three nodes' own mutual-TLS addresses."""
        return self.cluster.mtls_bootstrap_servers

    @property
    def credentials(self) -> CredentialFolder:
        """The cluster's shared credentials folder."""
        return self.cluster.credentials

    @property
    def nodes(self) -> Sequence[BrokerNode]:
        """The three nodes."""
        return self.cluster.nodes

    async def leader_of(self, topic: str, partition: int) -> int:
        """The node leading the partition now, asked on the nodes' own ports."""
        return await self.cluster.leader_of(topic, partition)

    async def topics_ready(self, names: list[str]) -> None:
        """Wait until every node knows the topics and all their replicas are in sync."""
        await self.cluster.wait_topics_in_sync(names)


@asynccontextmanager
async def cluster_behind_proxies(work: Path) -> AsyncIterator[tuple[ClusterFleet, ProxyGroup]]:
    """A started cluster under `work` and a started proxy per node on its MTLS listener; all stopped afterwards."""
    proxy_ports = {node_id: free_port() for node_id in NODE_IDS}
    async with local_cluster(
        work / "kafka-cluster", credentials=work / "kafka-credentials", advertised_mtls_override=proxy_ports
    ) as cluster:
        proxies = ProxyGroup([TcpProxy(proxy_ports[n.node_id], HOST, n.kafka.ports.mtls) for n in cluster.nodes])
        await proxies.start()
        try:
            yield ClusterFleet(cluster), proxies
        finally:
            await proxies.stop()
