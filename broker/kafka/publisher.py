"""Publish records to Kafka with an idempotent producer (acks=all).

The producer is created lazily and thrown away after any failure, so that a
broker that was down is reconnected to cleanly; the relay simply tries again.
`durable_producer` is the one place a producer of Silta's is built (the
relay's here, the organisers' reference client's sender): every one waits for
all in-sync replicas and is idempotent, so a retry after a lost
acknowledgement never writes a record twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from broker.domain.accepted import OutboundRecord
from broker.kafka.connection import KafkaConnection, KafkaCredentialsError
from broker.kafka.refusals import note_if_refused

log = structlog.get_logger(__name__)

DURABLE_PRODUCER_OPTIONS: dict[str, Any] = {"acks": "all", "enable_idempotence": True}
"""Acknowledged by every in-sync replica (`min.insync.replicas` of them at least), written once per retry."""


def durable_producer(connection: KafkaConnection, **tuning: int | str) -> AIOKafkaProducer:
    """A producer for `connection` with `DURABLE_PRODUCER_OPTIONS`; `tuning` may not weaken them."""
    weakened = sorted(name for name in tuning if name in DURABLE_PRODUCER_OPTIONS)
    if weakened:
        raise ValueError(f"a producer of Silta's always has {DURABLE_PRODUCER_OPTIONS}; not settable: {weakened}")
    return AIOKafkaProducer(**connection.client_options(), **tuning, **DURABLE_PRODUCER_OPTIONS)


class PublishError(Exception):
    """The records could not be published now; try again later."""


class Publisher(Protocol):
    """The relay's port to a message bus."""

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        """Publish every record in order, or raise `PublishError` (some may have been sent)."""


class KafkaPublisher:
    """A `Publisher` on an aiokafka producer."""

    def __init__(self, connection: KafkaConnection, request_timeout_ms: int) -> None:
        self._connection = connection
        self._timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def _ready_producer(self) -> AIOKafkaProducer:
        async with self._starting:  # the relay and the readiness probe may ask at once
            return await self._start_if_needed()

    async def _start_if_needed(self) -> AIOKafkaProducer:
        if self._producer is None:
            try:
                producer = durable_producer(
                    self._connection, request_timeout_ms=self._timeout_ms, linger_ms=2, max_batch_size=1024 * 1024
                )
            except KafkaCredentialsError as error:
                raise PublishError(f"cannot connect to Kafka: {error}") from error
            try:
                await asyncio.wait_for(producer.start(), self._timeout_ms / 1000)
            except (KafkaError, OSError, TimeoutError) as error:
                note_if_refused("relay", error)
                await _abandon(producer)
                raise PublishError(f"cannot connect to Kafka: {error!r}") from error
            except asyncio.CancelledError:
                await asyncio.shield(_abandon(producer))
                raise
            self._producer = producer
        return self._producer

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        """Send the records in order and wait until Kafka has acknowledged all of them."""
        producer = await self._ready_producer()
        try:
            deliveries = [
                await producer.send(
                    r.topic, r.value, key=r.key.encode(), headers=[(k, v.encode()) for k, v in r.headers.items()]
                )
                for r in records
            ]
            await asyncio.wait_for(asyncio.gather(*deliveries), self._timeout_ms / 1000 * 2)
        except (KafkaError, OSError, TimeoutError) as error:
            note_if_refused("relay", error)
            await self.close()
            raise PublishError(f"publishing failed: {error!r}") from error

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """True if Kafka answers a metadata request now."""
        try:
            producer = await self._ready_producer()
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
        except (PublishError, KafkaError, OSError, TimeoutError):
            return False
        return True

    async def close(self) -> None:
        """Stop the producer, if there is one."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await _abandon(producer)


async def _abandon(producer: AIOKafkaProducer) -> None:
    """Stop a producer without hanging on a broker that is gone."""
    try:
        await asyncio.wait_for(producer.stop(), 5)
    except (KafkaError, OSError, TimeoutError) as error:
        log.warning("kafka_producer_stop_failed", error=repr(error))
