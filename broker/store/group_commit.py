"""Group commit: many requests' messages stored in one transaction, each answered after it commits.

One SQL transaction per request caps acceptance at a few hundred messages a
second; committing whatever has queued up while the previous commit ran
keeps the same guarantee (a 202 is sent only after the message and its outbox
row are durably stored) at a fraction of the cost. A batch that fails as a
whole (for example a concurrent insert of the same id by another instance) is
retried one message per transaction, so one bad message never fails others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.domain.accepted import AcceptedMessage, SaveOutcome
from broker.store.messages import classify, insert_accepted, known_hashes

log = structlog.get_logger(__name__)


@dataclass
class _Pending:
    message: AcceptedMessage
    outcome: asyncio.Future[SaveOutcome]


class GroupCommitter:
    """Stores accepted messages with their outbox rows; the edge's unit of work for acceptance."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_batch: int,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background writer."""
        self._worker = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        await self._queue.join()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def save(self, message: AcceptedMessage) -> SaveOutcome:
        """Store one message; returns once it is committed (or found to be a duplicate or conflict)."""
        pending = _Pending(message, asyncio.get_running_loop().create_future())
        await self._queue.put(pending)
        return await pending.outcome

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._store([p.message for p in batch])
        except IntegrityError:
            log.warning("group_commit_conflict_retrying_singly", size=len(batch))
            await self._commit_singly(batch)
            return
        except Exception as error:  # noqa: BLE001  every caller in the batch must hear of any failure
            for pending in batch:
                if not pending.outcome.done():
                    pending.outcome.set_exception(error)
            return
        self._resolve(batch, outcomes)

    async def _commit_singly(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                outcomes = await self._store([pending.message])
            except Exception as error:  # noqa: BLE001  reported to this one caller only
                if not pending.outcome.done():
                    pending.outcome.set_exception(error)
                continue
            self._resolve([pending], outcomes)

    def _resolve(self, batch: Sequence[_Pending], outcomes: Sequence[SaveOutcome]) -> None:
        if SaveOutcome.STORED in outcomes:
            self._on_commit()
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.outcome.done():
                pending.outcome.set_result(outcome)

    async def _store(self, messages: Sequence[AcceptedMessage]) -> list[SaveOutcome]:
        async with self._sessions() as session, session.begin():
            outcomes = classify(messages, await known_hashes(session, [m.message_id for m in messages]))
            new = [m for m, outcome in zip(messages, outcomes, strict=True) if outcome is SaveOutcome.STORED]
            await insert_accepted(session, new)
        return outcomes
