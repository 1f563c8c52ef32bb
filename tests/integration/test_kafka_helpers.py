"""The test helpers that read organisers' topics: waiting on conditions must not miss a late record."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from adapters.municipality.contract import HEADER_MESSAGE_ID, inbound_topic
from devinfra.kafka import LocalKafka
from tests.integration.kafka_helpers import collect, delivered_ids, end_offsets

pytestmark = pytest.mark.integration
ORG = "hva-90"


async def _ensure_topic(kafka: LocalKafka, topic: str) -> None:
    """The organiser's topic, as the service would create it (three partitions)."""
    admin = AIOKafkaAdminClient(**kafka.connection().client_options())
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()


async def _send(producer: AIOKafkaProducer, message_id: str) -> None:
    await producer.send_and_wait(
        inbound_topic(ORG),
        b"<not-a-silta-message/>",
        key=message_id.encode(),
        headers=[(HEADER_MESSAGE_ID, message_id.encode())],
    )


async def test_collect_reads_on_to_the_end_once_quiet(kafka: LocalKafka) -> None:
    """A second copy that lands after the first was read, before `until_quiet` holds, is collected too."""
    await _ensure_topic(kafka, inbound_topic(ORG))
    message_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(**kafka.connection().client_options())
    await producer.start()
    try:
        await _send(producer, message_id)

        async def quiet_after_a_late_copy() -> bool:
            await _send(producer, message_id)
            return True

        deliveries = await collect(kafka, ORG, {message_id}, until_quiet=quiet_after_a_late_copy)
    finally:
        await producer.stop()
    assert delivered_ids(deliveries) == [message_id, message_id]


async def test_end_offsets_name_every_partition(kafka: LocalKafka) -> None:
    """`end_offsets` knows all three partitions of an organiser's topic, so reading to the end is never vacuous."""
    await _ensure_topic(kafka, inbound_topic(ORG))
    ends = await end_offsets(kafka, inbound_topic(ORG))
    assert sorted(ends) == [0, 1, 2]
    assert all(offset >= 0 for offset in ends.values())
