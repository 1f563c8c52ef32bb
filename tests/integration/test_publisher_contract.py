"""One contract for the relay's `Publisher` port, run against the in-memory fake and real Kafka."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from broker.domain.accepted import OutboundRecord
from broker.kafka.memory import InMemoryPublisher
from broker.kafka.publisher import KafkaPublisher, Publisher
from devinfra.kafka import LocalKafka

pytestmark = pytest.mark.integration
ReadBack = Callable[[str, int], Awaitable[list[OutboundRecord]]]


async def _kafka_read_back(kafka: LocalKafka, topic: str, count: int) -> list[OutboundRecord]:
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.connection().client_options(),
        group_id=f"contract-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[OutboundRecord] = []
    try:
        while len(records) < count:
            batch = await consumer.getmany(timeout_ms=10_000)
            assert batch, "records did not arrive"
            for partition_records in batch.values():
                records.extend(
                    OutboundRecord(
                        r.topic, (r.key or b"").decode(), {k: v.decode() for k, v in r.headers}, r.value or b""
                    )
                    for r in partition_records
                )
    finally:
        await consumer.stop()
    return records


@pytest.fixture(params=["in-memory", "kafka"])
async def publisher_and_reader(
    request: pytest.FixtureRequest, kafka: LocalKafka
) -> AsyncIterator[tuple[Publisher, ReadBack, str]]:
    """Each implementation of the port, with a way to read back what it published."""
    topic = f"contract.{uuid.uuid4().hex[:12]}"
    if request.param == "in-memory":
        memory = InMemoryPublisher()

        async def read_memory(name: str, count: int) -> list[OutboundRecord]:
            return [r for r in memory.records if r.topic == name][:count]

        yield memory, read_memory, topic
        return
    admin = AIOKafkaAdminClient(**kafka.connection().client_options())
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    real = KafkaPublisher(kafka.connection(), request_timeout_ms=5000)

    async def read_kafka(name: str, count: int) -> list[OutboundRecord]:
        return await _kafka_read_back(kafka, name, count)

    yield real, read_kafka, topic
    await real.close()


async def test_published_records_arrive_whole_and_in_order(
    publisher_and_reader: tuple[Publisher, ReadBack, str],
) -> None:
    """Topic, key, every header and the value arrive unchanged, in the order published."""
    publisher, read_back, topic = publisher_and_reader
    headers = {"silta-sender": "kela"}
    sent = [
        OutboundRecord(topic, "CASE-1", {**headers, "silta-message-id": str(i)}, f"<m>{i}</m>".encode())
        for i in range(5)
    ]
    await publisher.publish(sent[:2])
    await publisher.publish(sent[2:])
    assert await read_back(topic, 5) == sent
