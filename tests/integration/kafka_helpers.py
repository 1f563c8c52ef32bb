"""Reading what arrived on an organiser's topic, through the organiser client."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from adapters.municipality.client import Delivery, InvalidRecord, OrganiserClient
from adapters.municipality.contract import inbound_topic
from adapters.municipality.keys import SiltaKeySource
from devinfra.kafka import LocalKafka
from tests.conftest import party_keys, silta_keys
from tests.support.waiting import wait_until


async def collect(
    kafka: LocalKafka,
    org: str,
    message_ids: set[str],
    *,
    timeout_s: float = 30.0,
    until_quiet: Callable[[], Awaitable[bool]] | None = None,
    silta: SiltaKeySource | None = None,
    by: Callable[[Delivery], str | None] | None = None,
) -> list[Delivery]:
    """Deliveries of the given message ids on `silta.to.<org>.v1`, read with a fresh consumer group.

    Waits until each id has arrived at least once. With `until_quiet` (such as
    `outbox_drained`, true once nothing is left to publish), it then waits for
    that and reads on to the topic's end, so that a duplicate or a further
    record about the same id is caught too. `by` picks another id to match on,
    such as `correlation_id` for the receipts of sent messages.
    """
    key = by or _message_id
    found: list[Delivery] = []
    read_up_to: dict[int, int] = {}
    all_arrived = asyncio.Event()
    group = f"{org}.test-{uuid.uuid4().hex}"  # the organiser's ACLs allow only groups prefixed with its id
    source = silta or silta_keys()
    async with OrganiserClient(org, kafka.connection(org), party_keys(org), source, group_id=group) as client:

        async def read() -> None:
            async for delivery in client.deliveries():
                if key(delivery) in message_ids:
                    found.append(delivery)
                read_up_to[delivery.partition] = delivery.offset + 1
                if {key(d) for d in found} == message_ids:
                    all_arrived.set()
                await client.ack(delivery)

        reader = asyncio.create_task(read())
        try:
            async with asyncio.timeout(timeout_s):
                await all_arrived.wait()
                if until_quiet is not None:
                    await wait_until(until_quiet, timeout_s, what="nothing left to publish")
                    await _read_to_the_end(kafka, inbound_topic(org), read_up_to)
        finally:
            reader.cancel()
            # bounded: a cancellation swallowed inside aiokafka must not hang the test; stopping
            # the consumer on the way out ends the reader anyway
            await asyncio.wait({reader}, timeout=10)
    return found


async def _read_to_the_end(kafka: LocalKafka, topic: str, read_up_to: dict[int, int]) -> None:
    """Wait until the reader has passed every record the topic holds now."""
    ends = await end_offsets(kafka, topic)
    await wait_until(
        lambda: all(read_up_to.get(partition, 0) >= end for partition, end in ends.items()),
        timeout_s=30,
        what=f"reading {topic} to its end {ends}",
    )


async def end_offsets(kafka: LocalKafka, topic: str) -> dict[int, int]:
    """Partition → the offset the next record on it will get."""
    probe = AIOKafkaConsumer(topic, **kafka.connection().client_options(), group_id=None, enable_auto_commit=False)
    await probe.start()
    try:
        await wait_until(lambda: bool(probe.partitions_for_topic(topic)), 30, what=f"the partitions of {topic}")
        partitions = [TopicPartition(topic, p) for p in sorted(probe.partitions_for_topic(topic) or ())]
        offsets = await probe.end_offsets(partitions)
    finally:
        await probe.stop()
    return {tp.partition: offset for tp, offset in offsets.items()}


def delivered_ids(deliveries: list[Delivery]) -> list[str | None]:
    """The message ids of deliveries, in arrival order."""
    return [_message_id(d) for d in deliveries]


def _message_id(delivery: Delivery) -> str | None:
    message = delivery.message
    return message.message_id if isinstance(message, InvalidRecord) else message.envelope.message_id


def correlation_id(delivery: Delivery) -> str | None:
    """The id of the message a delivery answers or receipts (None for an invalid record)."""
    message = delivery.message
    return None if isinstance(message, InvalidRecord) else message.envelope.correlation_id


SHORT_TIMEOUTS = {"request_timeout_ms": 5000, "metadata_max_age_ms": 5000}
"""Client timeouts for tests that expect a refusal: a refused client gives up in seconds, not minutes."""


async def can_connect(options: dict[str, object]) -> bool:
    """Whether an admin client with these options gets in and lists the topics (False on any refusal)."""
    admin = AIOKafkaAdminClient(**options, **SHORT_TIMEOUTS)
    try:
        async with asyncio.timeout(15):
            await admin.start()
            await admin.list_topics()
    except (KafkaError, OSError, TimeoutError, ssl.SSLError):
        return False
    finally:
        await admin.close()
    return True
