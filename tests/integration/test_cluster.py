"""Silta's topics on a three-node cluster: replicated three times, secured, and losing nothing when a leader dies.

The cluster is `devinfra.cluster`'s, started once for this module (about a
minute on a busy machine). Deselect with `-m "not cluster"`.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
from collections.abc import AsyncIterator

import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAuthorizationFailedError

from broker.domain.topics import topic_from, topic_to
from broker.kafka.publisher import durable_producer
from broker.kafka.topics import ensure_topics, municipality_topics, silta_topics, topics_min_insync_replicas
from devinfra.cluster import LocalCluster, local_cluster
from devinfra.cluster_config import MIN_INSYNC_REPLICAS, REPLICATION_FACTOR
from tests.integration.kafka_helpers import SHORT_TIMEOUTS, can_connect
from tests.support.databases import scratch_dir
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

_TOPIC = topic_to("hva-08")
_BEFORE_KILL, _AFTER_KILL = 150, 150


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    """A three-node cluster with Silta's topics, created by the service's own `ensure_topics`."""
    work = scratch_dir("silta-cluster-")
    try:
        async with local_cluster(work, stop_timeout_s=2) as started:  # its data is thrown away: no clean shutdown
            await ensure_topics(started.connection(), 3, REPLICATION_FACTOR, min_insync_replicas=MIN_INSYNC_REPLICAS)
            await started.wait_topics_in_sync(silta_topics() + municipality_topics())
            yield started
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def test_every_silta_topic_has_three_replicas(cluster: LocalCluster) -> None:
    """Each organiser topic's partitions sit on all three nodes, all of them in sync."""
    view = await cluster.view()
    for name in silta_topics():
        for partition in range(3):
            state = view.partition(name, partition)
            assert sorted(state.replicas) == [1, 2, 3], name
            assert sorted(state.isr) == [1, 2, 3], name


async def test_silta_creates_its_topics_with_two_in_sync_replicas(cluster: LocalCluster) -> None:
    """`min.insync.replicas` is set on each topic `ensure_topics` made, so acks=all needs two copies."""
    names = silta_topics() + municipality_topics()
    assert await topics_min_insync_replicas(cluster.connection(), names) == dict.fromkeys(names, MIN_INSYNC_REPLICAS)
    assert await _set_on_the_topic(cluster, names) == set(names)  # not merely the cluster's default of 2


async def _set_on_the_topic(cluster: LocalCluster, names: list[str]) -> set[str]:
    """The topics whose `min.insync.replicas` is the topic's own setting (config source 1, DYNAMIC_TOPIC_CONFIG)."""
    admin = AIOKafkaAdminClient(**cluster.connection().client_options(), **SHORT_TIMEOUTS)
    await admin.start()
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name, {"min.insync.replicas": None}) for name in names]
        responses = await admin.describe_configs(resources)
    finally:
        await admin.close()
    return {
        resource["resource_name"]
        for response in responses
        for resource in response.to_object()["resources"]
        for entry in resource["config_entries"]
        if entry["config_source"] == 1
    }


async def test_an_existing_topic_with_other_min_insync_replicas_is_reported_not_altered(cluster: LocalCluster) -> None:
    """A start configured for 1 finds the topics at 2: a warning naming how many differ, and no change."""
    with structlog.testing.capture_logs() as logs:
        created = await ensure_topics(cluster.connection(), 3, REPLICATION_FACTOR, min_insync_replicas=1)
    assert created == []
    [warning] = [line for line in logs if line["event"] == "kafka_topic_min_insync_replicas_differs"]
    names = silta_topics() + municipality_topics()
    assert (warning["wanted"], warning["topics"], warning["found"]) == (1, len(names), [MIN_INSYNC_REPLICAS])
    assert set((await topics_min_insync_replicas(cluster.connection(), names)).values()) == {MIN_INSYNC_REPLICAS}


async def test_no_anonymous_or_plaintext_client_reaches_any_node(cluster: LocalCluster) -> None:
    """Plaintext, TLS without a login, TLS without a certificate: refused on every node; a party's login works."""
    ca_only = ssl.create_default_context(cafile=str(cluster.credentials.ca_file))
    for node in cluster.nodes:
        sasl, mtls = f"127.0.0.1:{node.sasl_port}", f"127.0.0.1:{node.kafka.ports.mtls}"
        assert not await can_connect({"bootstrap_servers": sasl})
        assert not await can_connect({"bootstrap_servers": sasl, "security_protocol": "SSL", "ssl_context": ca_only})
        assert not await can_connect({"bootstrap_servers": mtls, "security_protocol": "SSL", "ssl_context": ca_only})
    assert await can_connect(cluster.connection("hva-09").client_options())
    assert await can_connect(cluster.connection("hva-09", mtls=True).client_options())


async def test_an_organiser_may_not_write_another_organisers_topic(cluster: LocalCluster) -> None:
    """The parties' ACLs hold on the cluster: hva-09 writes its own from-topic, never hva-08's."""
    producer = AIOKafkaProducer(**cluster.connection("hva-09").client_options(), **SHORT_TIMEOUTS)
    await producer.start()
    try:
        await producer.send_and_wait(topic_from("hva-09"), b"<probe/>", key=b"probe")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(topic_from("hva-08"), b"<probe/>", key=b"probe")
    finally:
        await producer.stop()


class _Reader:
    """Reads one partition from the start as Silta's consumer group, committing after each batch."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.seen: list[bytes] = []
        self._consumer = AIOKafkaConsumer(
            **cluster.connection().client_options(),
            group_id="silta-cluster-test",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=30_000,
        )

    async def run(self, expected: int) -> None:
        """Read until `expected` records have arrived."""
        await self._consumer.start()
        # Assigned, not subscribed: no rebalance can move the position back, so a record seen twice is a bug.
        self._consumer.assign([TopicPartition(_TOPIC, 0)])
        try:
            while len(self.seen) < expected:
                batches = await self._consumer.getmany(timeout_ms=500)
                self.seen += [record.value for records in batches.values() for record in records]
                if batches:
                    await self._consumer.commit()
        finally:
            await self._consumer.stop()


async def _produce(producer: AIOKafkaProducer, ids: range) -> None:
    """Send each id to partition 0 and wait for every acknowledgement (acks=all, idempotent: never resent by us)."""
    deliveries = [await producer.send(_TOPIC, f"m-{i}".encode(), key=b"case-1", partition=0) for i in ids]
    await asyncio.gather(*deliveries)


async def test_records_survive_the_sigkill_of_their_partition_leader(cluster: LocalCluster) -> None:
    """Kill -9 the leader while producing and consuming: every record arrives once, in order; the node rejoins ISR."""
    total = _BEFORE_KILL + _AFTER_KILL
    leader = cluster.node(await cluster.leader_of(_TOPIC, 0))
    producer = durable_producer(cluster.connection(), request_timeout_ms=30_000)
    await producer.start()
    reader = _Reader(cluster)
    reading = asyncio.create_task(reader.run(total))
    try:
        await _produce(producer, range(_BEFORE_KILL))
        await wait_until(lambda: len(reader.seen) > 0, 60, what="the consumer reading before the kill")
        await leader.kill()
        await _produce(producer, range(_BEFORE_KILL, total))
        await asyncio.wait_for(reading, 120)
    finally:
        reading.cancel()
        await producer.stop()
    assert reader.seen == [f"m-{i}".encode() for i in range(total)]
    survivors = {1, 2, 3} - {leader.node_id}
    await wait_until(
        lambda: _led_by_survivors(cluster, survivors), 30, what="the survivors leading, the dead node out of ISR"
    )
    await leader.restart()
    assert await cluster.in_sync_replicas(_TOPIC, 0) == {1, 2, 3}


async def _led_by_survivors(cluster: LocalCluster, survivors: set[int]) -> bool:
    state = (await cluster.view()).partition(_TOPIC, 0)
    return state.leader in survivors and set(state.isr) == survivors and len(survivors) >= MIN_INSYNC_REPLICAS
