"""The outbox relay: publishes stored outbox rows to Kafka (or Kela's inbox) and marks them published.

Rows go out in the order they were written, so everything about one case
keeps its order on its topic. A row is marked published only after Kafka has
acknowledged it; if Kafka is down the rows wait and go out when it is back.
If the process dies after Kafka's acknowledgement but before the mark is
committed, the row is published again on restart: delivery is at least once,
and consumers deduplicate on the `silta-message-id` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Protocol

import structlog

from broker.domain.accepted import OutboundRecord
from broker.domain.parties import KELA
from broker.domain.topics import KELA_INBOX
from broker.kafka.publisher import Publisher, PublishError
from broker.metrics import RECORDS_PUBLISHED
from broker.services.ops_metrics import observe_delivery
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from broker.store import inbox
from broker.store.audit_log import append_entries
from broker.store.messages import (
    PendingRecord,
    disclosure_entries,
    mark_published,
    pending_records,
    receipt_entries,
)

log = structlog.get_logger(__name__)
_MAX_BACKOFF_S = 10.0
HELD_RECHECK_S = 30.0
"""How long topics whose recipient has no encryption key are left out of the batches before trying again."""


class Sealer(Protocol):
    """Seals records for their recipients: encrypted to the recipient, signed by Silta."""

    async def seal_all(self, uow: UnitOfWork, records: Sequence[OutboundRecord]) -> list[OutboundRecord | None]:
        """Each record sealed, or None where its recipient has no encryption key yet."""


class OutboxRelay:
    """Moves outbox rows to the bus, woken on each commit and polling as a fallback."""

    def __init__(
        self, units: UnitOfWorkFactory, publisher: Publisher, sealer: Sealer, batch_size: int, poll_interval_s: float
    ) -> None:
        self._units = units
        self._publisher = publisher
        self._sealer = sealer
        self._held_topics: set[str] = set()
        self._held_since = 0.0
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Tell the relay that new rows were committed."""
        self._wake.set()

    def start(self) -> None:
        """Start relaying in the background."""
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop relaying; unpublished rows stay for the next start."""
        # The flag as well as the cancel: Python 3.11's asyncio.wait_for can swallow a
        # cancellation that arrives as its inner future completes, and the loop must end anyway.
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        async with self._units() as uow:
            session = uow.session
            pending = await pending_records(session, self._batch_size, self._topics_to_skip())
            if not pending:
                return 0
            pending = await self._publish(uow, pending)
            published_at = uow.clock.now()
            await mark_published(session, pending, published_at)
            to_inbox = [p.message_id for p in pending if p.record.topic == KELA_INBOX]
            await inbox.deliver(session, KELA, to_inbox, published_at)
            await append_entries(session, "disclosure", disclosure_entries(pending), published_at)
            await append_entries(session, "receipt", receipt_entries(pending), published_at)
            await observe_delivery(session, [p.message_id for p in pending], published_at)
            await uow.commit()
        RECORDS_PUBLISHED.inc(len(pending))
        log.info("outbox_published", count=len(pending))
        return len(pending)

    def _topics_to_skip(self) -> frozenset[str]:
        """Topics whose recipient had no key: skipped for a while, so that their rows cannot fill every batch."""
        if self._held_topics and time.monotonic() - self._held_since > HELD_RECHECK_S:
            self._held_topics = set()  # look again: a key may have been registered meanwhile
        return frozenset(self._held_topics)

    async def _publish(self, uow: UnitOfWork, pending: list[PendingRecord]) -> list[PendingRecord]:
        """Seal and publish the Kafka-bound rows; returns the rows done (a recipient without a key waits)."""
        to_kafka = [p for p in pending if p.record.topic != KELA_INBOX]
        sealed = await self._sealer.seal_all(uow, [p.record for p in to_kafka])
        held = {p.outbox_id for p, s in zip(to_kafka, sealed, strict=True) if s is None}
        if held:
            topics = {p.record.topic for p in to_kafka if p.outbox_id in held}
            log.error("outbox_recipient_key_missing", held=len(held), topics=sorted(topics))
            if not self._held_topics:
                self._held_since = time.monotonic()
            self._held_topics |= topics
        ready = [s for s in sealed if s is not None]
        if ready:
            await self._publisher.publish(ready)
        return [p for p in pending if p.outbox_id not in held]

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            self._wake.clear()
            try:
                published = await self.relay_once()
                backoff = 0.5
            except PublishError as error:
                log.warning("outbox_publish_failed", error=str(error), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
                continue
            except Exception:  # keep relaying; the error is logged with its traceback
                log.exception("outbox_relay_error")
                await asyncio.sleep(backoff)
                continue
            if published < self._batch_size:
                await self._sleep_until_woken()

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
