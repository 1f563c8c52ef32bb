"""The consumer of every organiser's `silta.from.<org>.v1` topic: one worker per partition, manual commits.

`getmany` hands each partition's batch to a worker of its own, and the
partition is paused until its worker is done and its offset committed, so a
slow or failing partition never holds back another organiser's topic, and
records within a partition keep their order. A worker handles each record to
an outcome (stored, or parked with a receipt: see
`broker.services.record_processing`), so no record blocks the records behind
it. Before a rebalance takes partitions away, their workers finish and commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from broker.domain.clock import Clock
from broker.domain.topics import from_topics
from broker.kafka.connection import KafkaConnection, KafkaCredentialsError
from broker.kafka.refusals import note_if_refused
from broker.services.inbound import InboundOutcome, InboundRecord
from broker.services.receipts import RecordPosition

log = structlog.get_logger(__name__)
_MAX_BACKOFF_S = 10.0
_FINISH_TIMEOUT_S = 30.0
_RETRY_PAUSE_S = 2.0


class RecordHandler(Protocol):
    """Handles one record to an outcome (`broker.services.record_processing.RecordProcessor` in production)."""

    async def process(self, record: InboundRecord) -> InboundOutcome:
        """The record's outcome, once it is stored."""
        ...


@dataclass(frozen=True)
class Stall:
    """A partition that has been on one record for a while with records waiting behind it."""

    partition: str
    offset: int
    seconds: float


class InboundConsumer:
    """Reads organisers' records; commits each partition's offsets once its records' outcomes are stored."""

    def __init__(
        self,
        connection: KafkaConnection,
        group_id: str,
        processor: RecordHandler,
        *,
        max_records: int,
        clock: Clock,
    ) -> None:
        self._connection = connection
        self._group_id = group_id
        self._processor = processor
        self._max_records = max_records
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._workers: dict[TopicPartition, asyncio.Task[None]] = {}
        self._current: dict[TopicPartition, tuple[int, dt.datetime]] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._record_times: dict[TopicPartition, int] = {}
        """Kafka timestamp (ms) of the record in hand, else of the last one handled, per partition."""
        self._consumer: AIOKafkaConsumer[bytes, bytes] | None = None

    def start(self) -> None:
        """Start consuming in the background."""
        self._task = asyncio.create_task(self._run(), name="inbound-consumer")

    async def stop(self) -> None:
        """Stop consuming; uncommitted records are read again by the next consumer."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def stalls(self, longer_than_s: float) -> list[Stall]:
        """Partitions on one record for longer than `longer_than_s` while later records wait."""
        now, stalls = self._clock.now(), []
        for tp, (offset, since) in list(self._current.items()):
            waited = (now - since).total_seconds()
            highwater = self._consumer.highwater(tp) if self._consumer is not None else None
            if waited > longer_than_s and (highwater is None or highwater > offset + 1):
                stalls.append(Stall(f"{tp.topic}/{tp.partition}", offset, round(waited, 1)))
        return stalls

    def lag(self) -> dict[tuple[str, int], int]:
        """Records behind each assigned partition's highwater: from the one being handled, else the last commit.

        A partition not fetched yet (no highwater known) is left out; one fetched but with nothing handled since
        the assignment counts as caught up, as its fetch position is the highwater then.
        """
        consumer, lags = self._consumer, {}
        if consumer is None:
            return {}
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            current = self._current.get(tp)
            position = current[0] if current else self._committed.get(tp, highwater)
            lags[tp.topic, tp.partition] = max(highwater - position, 0)
        return lags

    def lag_seconds(self) -> dict[tuple[str, int], float]:
        """How far behind each partition is in time: 0 when caught up, else the age of a waiting record.

        With a record in hand, its age (now minus its Kafka timestamp): the oldest record not yet handled.
        Between batches, the age of the last record handled: the next one waiting was written after it, so this
        bounds the oldest unconsumed record's age from above, without a fetch or a query.
        """
        now_ms = self._clock.now().timestamp() * 1000
        seconds = {}
        for (topic, partition), records in self.lag().items():
            stamp = self._record_times.get(TopicPartition(topic, partition))
            if records == 0 or stamp is None:
                seconds[topic, partition] = 0.0
            else:
                seconds[topic, partition] = round(max(now_ms - stamp, 0) / 1000, 3)
        return seconds

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                options = self._connection.client_options()
            except KafkaCredentialsError as error:  # files not there yet (being provisioned): try again later
                log.error("inbound_consumer_credentials_missing", error=str(error), retry_in_s=_MAX_BACKOFF_S)
                await asyncio.sleep(_MAX_BACKOFF_S)
                continue
            consumer = AIOKafkaConsumer(
                **options,
                group_id=self._group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id="silta-inbound",
                metadata_max_age_ms=30_000,
            )
            consumer.subscribe(from_topics(), listener=_FinishBeforeRevoke(self))
            try:
                await consumer.start()
                self._consumer, backoff = consumer, 0.5
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001  Kafka may be away; start again after a pause
                note_if_refused("inbound", error)
                log.warning("inbound_consumer_restarting", error=repr(error), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
            finally:
                try:
                    await self.finish(list(self._workers), cancel=self._stopping)
                finally:
                    self._consumer = None
                    await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer[bytes, bytes]) -> None:
        while not self._stopping:
            batches = await consumer.getmany(timeout_ms=500, max_records=self._max_records)
            for tp, records in batches.items():
                if records:
                    consumer.pause(tp)
                    self._workers[tp] = asyncio.create_task(self._work(consumer, tp, records), name=f"inbound-{tp}")

    async def _work(
        self, consumer: AIOKafkaConsumer[bytes, bytes], tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        try:
            for record in records:
                self._current[tp] = (record.offset, self._clock.now())
                self._record_times[tp] = record.timestamp
                await self._processor.process(_inbound(record))
            self._current.pop(tp, None)
            await consumer.commit({tp: records[-1].offset + 1})
            self._committed[tp] = records[-1].offset + 1
            log.debug("inbound_partition_batch_stored", partition=str(tp), records=len(records))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001  a commit or a parking failed: read again (deduplicated) after a pause
            log.warning(
                "inbound_partition_batch_failed", partition=str(tp), error=repr(error), retry_in_s=_RETRY_PAUSE_S
            )
            with contextlib.suppress(Exception):
                consumer.seek(tp, records[0].offset)
            await asyncio.sleep(_RETRY_PAUSE_S)
        finally:
            self._current.pop(tp, None)
            self._workers.pop(tp, None)
            if tp in consumer.assignment():
                consumer.resume(tp)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop what this instance knew of these partitions' positions (they are going to another instance)."""
        for tp in partitions:
            self._committed.pop(tp, None)
            self._record_times.pop(tp, None)

    async def finish(self, partitions: Iterable[TopicPartition], *, cancel: bool = False) -> None:
        """Let the workers of these partitions finish (and commit) before they go elsewhere.

        A worker still busy after `_FINISH_TIMEOUT_S` (or at once, when stopping) is cancelled: its uncommitted
        records are read again by the partition's next owner, and deduplicated.
        """
        wanted = set(partitions)
        running = [task for tp, task in list(self._workers.items()) if tp in wanted]
        if not running:
            return
        if not cancel:
            await asyncio.wait(running, timeout=_FINISH_TIMEOUT_S)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


class _FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no type hints
    """Finishes in-flight partitions before a rebalance hands them to another instance."""

    def __init__(self, consumer: InboundConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Wait for the revoked partitions' workers; their last commits are no longer this instance's to report."""
        await self._consumer.finish(revoked)
        self._consumer.forget(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to prepare: positions come from the committed offsets."""


def _inbound(record: ConsumerRecord[bytes, bytes]) -> InboundRecord:
    headers = {name: (value or b"").decode(errors="replace") for name, value in record.headers}  # Kafka allows null
    return InboundRecord(RecordPosition(record.topic, record.partition, record.offset), record.value, headers)
