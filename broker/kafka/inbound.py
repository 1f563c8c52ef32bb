"""The consumer of every organiser's `silta.from.<org>.v1` topic (one consumer group, manual commits)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from broker.domain.parties import all_organisers
from broker.services.inbound import InboundProcessor, InboundRecord
from broker.services.receipts import RecordPosition

log = structlog.get_logger(__name__)
_MAX_BACKOFF_S = 10.0


def from_topics() -> list[str]:
    """The topics organisers write to: `silta.from.<org>.v1` for each of the 22."""
    return [f"silta.from.{org}.v1" for org in all_organisers()]


class InboundConsumer:
    """Reads organisers' records in batches; commits offsets only after the batch's outcome is stored."""

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        processor: InboundProcessor,
        max_records: int,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._group_id = group_id
        self._processor = processor
        self._max_records = max_records
        self._on_stored = on_stored
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start consuming in the background."""
        self._task = asyncio.create_task(self._run(), name="inbound-consumer")

    async def stop(self) -> None:
        """Stop consuming; uncommitted records are read again by the next consumer."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            consumer = AIOKafkaConsumer(
                *from_topics(),
                bootstrap_servers=self._bootstrap_servers,
                group_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id="silta-inbound",
                metadata_max_age_ms=30_000,
            )
            try:
                await consumer.start()
                backoff = 0.5
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001  Kafka may be away; start again after a pause
                log.warning("inbound_consumer_restarting", error=repr(error), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
            finally:
                await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer[bytes, bytes]) -> None:
        while not self._stopping:
            batches = await consumer.getmany(timeout_ms=500, max_records=self._max_records)
            if not batches:
                continue
            records = [_inbound(record) for batch in batches.values() for record in batch]
            try:
                accepted = await self._processor.process(records)
            except Exception:
                log.exception("inbound_batch_failed", records=len(records))
                for partition, batch in batches.items():  # read the batch again after a pause
                    consumer.seek(partition, batch[0].offset)
                await asyncio.sleep(1.0)
                continue
            await consumer.commit({tp: batch[-1].offset + 1 for tp, batch in batches.items()})
            self._on_stored()
            log.info("inbound_batch_stored", records=len(records), accepted=accepted)


def _inbound(record: ConsumerRecord[bytes, bytes]) -> InboundRecord:
    return InboundRecord(RecordPosition(record.topic, record.partition, record.offset), record.value)
