"""A local three-node Apache Kafka cluster from the same jars as the single broker, for fault tests.

Each node is a `LocalKafka` process, combined broker and controller (a quorum
of three), configured by `devinfra.cluster_config` and secured exactly as the
single broker: TLS, SCRAM or a client certificate, every party's ACLs, no
plaintext listener. The nodes share one credentials folder and one cluster id
and start in parallel (a controller cannot finish starting without a quorum).

A node can be killed (SIGKILL), stopped (SIGTERM), restarted on the same data
and ports, paused (SIGSTOP) and resumed; `advertised_port_override` makes a
node advertise another port on its SASL_SSL listener (a TCP proxy's, for
network faults) while it listens on its own, and `advertised_mtls_override` does
the same on its MTLS listener, so that only the clients of that listener go
through the proxy. The cluster's own queries (leaders,
in-sync replicas) go to the nodes' real ports, never through such a proxy.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import bus_principals, desired_acls
from broker.kafka.connection import KafkaConnection
from broker.kafka.credentials import SILTA_PRINCIPAL, CredentialFolder
from broker.settings import PROJECT_ROOT
from devinfra.cluster_config import HOST, NodeLayout, node_properties, quorum_voters
from devinfra.cluster_metadata import ClusterUnreachableError, ClusterView, fetch_view
from devinfra.kafka import KafkaLaunchError, LocalKafka, ServerProperties, cluster_id, fetch_kafka_jars
from devinfra.kafka_config import KafkaPorts
from devinfra.pki import ensure_bus_credentials

NODE_IDS = (1, 2, 3)
_POLL_S = 0.5


class NodeHandle:
    """One node of the cluster, to break and mend on purpose."""

    def __init__(self, node_id: int, kafka: LocalKafka, cluster: LocalCluster) -> None:
        self.node_id = node_id
        self.kafka = kafka
        self.paused = False
        self._cluster = cluster

    @property
    def pid(self) -> int | None:
        """The node's process id while it runs (its process group's too)."""
        return self.kafka.pid

    @property
    def sasl_port(self) -> int:
        """The port the node's SASL_SSL listener binds (a proxy forwards to it)."""
        return self.kafka.ports.sasl

    @property
    def reachable(self) -> bool:
        """Running and not paused: it can answer a request."""
        return self.kafka.running and not self.paused

    async def kill(self) -> None:
        """SIGKILL, as a crash: no controlled shutdown, no leadership handed over."""
        self.paused = False
        await asyncio.to_thread(self.kafka.kill)

    async def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM and wait for the controlled shutdown (SIGKILL after `timeout_s`)."""
        await self.resume()  # a stopped process cannot act on SIGTERM
        await asyncio.to_thread(self.kafka.stop, timeout_s)

    async def restart(self, timeout_s: float = 120.0) -> None:
        """Start the node again on its data folder and ports; returns once it is back in every ISR it belongs to.

        A node still running is stopped cleanly first.
        """
        await self.stop()
        await asyncio.to_thread(self.kafka.launch)
        await asyncio.to_thread(self.kafka.wait_started, timeout_s)
        await self._cluster.wait_in_sync(self.node_id, timeout_s)

    async def pause(self) -> None:
        """SIGSTOP: the process holds its connections but answers nothing, as a long GC pause or a frozen VM."""
        self._signal(signal.SIGSTOP)
        self.paused = True

    async def resume(self) -> None:
        """SIGCONT after `pause`."""
        if self.paused:
            self._signal(signal.SIGCONT)
            self.paused = False

    def _signal(self, signum: signal.Signals) -> None:
        pid = self.pid
        if pid is None:
            raise KafkaLaunchError(f"node {self.node_id} is not running")
        os.killpg(pid, signum)


class LocalCluster:
    """Three secured KRaft nodes on 127.0.0.1, on free ports chosen when it is made (see `nodes`)."""

    def __init__(
        self,
        libs: Path,
        work_dir: Path,
        *,
        credentials: Path | None = None,
        advertised_port_override: dict[int, int] | None = None,
        advertised_mtls_override: dict[int, int] | None = None,
    ) -> None:
        override, mtls_override = advertised_port_override or {}, advertised_mtls_override or {}
        if unknown := (set(override) | set(mtls_override)) - set(NODE_IDS):
            raise ValueError(f"no such node: {sorted(unknown)}")
        self.work_dir = work_dir.resolve()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.credentials = CredentialFolder((credentials or self.work_dir / "credentials").resolve())
        layouts = [
            NodeLayout(i, ports, override.get(i, ports.sasl), mtls_override.get(i))
            for i, ports in _free_ports().items()
        ]
        self._layouts = {layout.node_id: layout for layout in layouts}
        voters, storage_id = quorum_voters(layouts), self._storage_id()
        self.nodes: list[NodeHandle] = []
        for layout in layouts:
            data_dir = self.work_dir / f"node-{layout.node_id}"
            properties = _properties(layout, voters, data_dir, self.credentials)
            kafka = LocalKafka(
                libs, data_dir, layout.ports, self.credentials.root, properties=properties, storage_id=storage_id
            )
            self.nodes.append(NodeHandle(layout.node_id, kafka, self))

    def _storage_id(self) -> str:
        """The cluster id, kept in the work folder so the same cluster can be made again over its data."""
        path = self.work_dir / "cluster.id"
        if not path.exists():
            path.write_text(cluster_id())
        return path.read_text().strip()

    def node(self, node_id: int) -> NodeHandle:
        """The node with this id."""
        return next(n for n in self.nodes if n.node_id == node_id)

    @property
    def bootstrap_servers(self) -> str:
        """The SASL_SSL addresses as advertised (a proxy's where overridden), comma-separated."""
        return ",".join(f"{HOST}:{self._layouts[n.node_id].advertised_sasl_port}" for n in self.nodes)

    @property
    def mtls_bootstrap_servers(self) -> str:
        """The mutual-TLS listeners' own addresses (never a proxy's), comma-separated."""
        return ",".join(f"{HOST}:{n.kafka.ports.mtls}" for n in self.nodes)

    def connection(self, principal: str = SILTA_PRINCIPAL, *, mtls: bool = False) -> KafkaConnection:
        """A connection to the cluster as `principal` (Silta's by default), with SCRAM or its certificate."""
        servers = self.mtls_bootstrap_servers if mtls else self.bootstrap_servers
        return self.credentials.connection(principal, servers, mtls=mtls)

    async def start(self, timeout_s: float = 120.0) -> None:
        """Start the three nodes in parallel, wait until all are registered, grant every party's ACLs."""
        await asyncio.to_thread(ensure_bus_credentials, self.credentials, bus_principals())
        try:
            await asyncio.gather(*(asyncio.to_thread(n.kafka.launch) for n in self.nodes))
            await asyncio.gather(*(asyncio.to_thread(n.kafka.wait_started, timeout_s) for n in self.nodes))
            await self._until(lambda view: set(NODE_IDS) <= view.brokers, timeout_s, "every node registered")
            async with AclAdmin(self._direct_connection()) as admin:
                await admin.apply(desired_acls())
        except BaseException:
            await self.stop(timeout_s=2)
            raise

    async def stop(self, timeout_s: float = 30.0) -> None:
        """Stop every node (SIGTERM, SIGKILL after `timeout_s`), all at once."""
        await asyncio.gather(*(n.stop(timeout_s) for n in self.nodes))

    async def view(self) -> ClusterView:
        """Fresh metadata (brokers, leaders, replicas, ISRs) from a node that answers, asked on its own port."""
        return await fetch_view(self._direct_connection())

    async def leader_of(self, topic: str, partition: int) -> int:
        """The node id leading the partition now (-1 while it has none)."""
        return (await self.view()).partition(topic, partition).leader

    async def in_sync_replicas(self, topic: str, partition: int) -> set[int]:
        """The node ids in the partition's ISR now."""
        return set((await self.view()).partition(topic, partition).isr)

    async def wait_in_sync(self, node_id: int, timeout_s: float = 120.0) -> None:
        """Wait until the node is registered and in the ISR of every partition it is a replica of."""
        await self._until(lambda view: view.in_sync_everywhere(node_id), timeout_s, f"node {node_id} back in sync")

    async def wait_topics_in_sync(self, names: list[str], timeout_s: float = 120.0) -> None:
        """Wait until every broker knows the topics and all their replicas are in sync.

        A topic exists once `create_topics` returns, but the brokers learn of hundreds of them
        only seconds later.
        """
        wanted = set(names)
        await self._until(lambda view: view.topics_in_sync(wanted), timeout_s, f"{len(wanted)} topics in sync")

    async def _until(self, holds: Callable[[ClusterView], bool], timeout_s: float, what: str) -> None:
        """Poll until every reachable node agrees that `holds`; `KafkaLaunchError` naming `what` after `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                while not await self._check(holds):  # noqa: ASYNC110  polling the brokers: no event to wait on
                    await asyncio.sleep(_POLL_S)
        except TimeoutError:
            raise KafkaLaunchError(f"not within {timeout_s:g} s: {what}") from None

    async def _check(self, holds: Callable[[ClusterView], bool]) -> bool:
        """True when every reachable node's own view satisfies `holds` (each learns of changes on its own time)."""
        try:
            views = [await fetch_view(self._direct_connection([node])) for node in self.nodes if node.reachable]
        except ClusterUnreachableError:  # a node busy starting or failing over: ask again
            return False
        return bool(views) and all(holds(view) for view in views)

    def _direct_connection(self, nodes: list[NodeHandle] | None = None) -> KafkaConnection:
        """Silta's connection to the reachable nodes' own SASL_SSL ports, bypassing any proxy."""
        servers = ",".join(f"{HOST}:{n.sasl_port}" for n in nodes or self.nodes if n.reachable)
        return self.credentials.connection(SILTA_PRINCIPAL, servers)


def _free_ports() -> dict[int, KafkaPorts]:
    return {node_id: KafkaPorts.free() for node_id in NODE_IDS}


def _properties(layout: NodeLayout, voters: str, data_dir: Path, folder: CredentialFolder) -> ServerProperties:
    def properties(keystore: Path) -> dict[str, str]:
        return node_properties(layout, voters, data_dir, keystore, folder)

    return properties


@asynccontextmanager
async def local_cluster(
    work_dir: Path,
    *,
    libs: Path | None = None,
    credentials: Path | None = None,
    advertised_port_override: dict[int, int] | None = None,
    advertised_mtls_override: dict[int, int] | None = None,
    attempts: int = 3,
    stop_timeout_s: float = 30.0,
) -> AsyncIterator[LocalCluster]:
    """A started cluster, stopped on leaving; on a port taken meanwhile it tries again on fresh ports.

    Starting needs no proxy (the cluster's own requests go to the nodes' ports): start the proxies of
    `advertised_port_override` afterwards, forwarding to each node's `sasl_port` (those of
    `advertised_mtls_override` to its `kafka.ports.mtls`).
    """
    jars = libs if libs is not None else await asyncio.to_thread(fetch_kafka_jars, PROJECT_ROOT / ".cache")
    shared = credentials or work_dir / "credentials"
    for attempt in range(1, attempts + 1):
        cluster = LocalCluster(
            jars,
            work_dir / f"attempt-{attempt}",
            credentials=shared,
            advertised_port_override=advertised_port_override,
            advertised_mtls_override=advertised_mtls_override,
        )
        try:
            await cluster.start()
        except KafkaLaunchError:
            if attempt == attempts:
                raise
            continue
        break
    try:
        yield cluster
    finally:
        await cluster.stop(stop_timeout_s)
