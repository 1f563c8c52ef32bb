"""Overdue: requests past their due date without an answer, and messages nobody receipted in time.

Each overdue message gets an `overdue` step in its history (Kela sees it in
the status) and, if an organiser sent it, Silta tells the organiser with a
technical notice on its topic (a receipt whose outcome is `overdue`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import structlog
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from broker.crypto.signing import RecordSigner
from broker.domain.parties import PartyRole, role_of
from broker.services.receipts import SILTA, overdue_notice
from broker.store.messages import insert_accepted
from broker.store.tables import MessageEvent, MessageRecord
from broker.store.tracking import StatusStep, record_steps

log = structlog.get_logger(__name__)
_WAITING = ("accepted", "published", "delivered")


async def flag_overdue(
    session: AsyncSession, now: dt.datetime, receipt_timeout: dt.timedelta, signer: RecordSigner
) -> list[str]:
    """Flag every newly overdue message (in the caller's transaction); returns their ids."""
    answer = aliased(MessageRecord)
    flagged = exists().where(MessageEvent.message_id == MessageRecord.message_id, MessageEvent.status == "overdue")
    cancelled = exists().where(
        answer.correlation_id == MessageRecord.message_id,
        answer.message_type == "information-request-cancellation",
    )
    request_past_due = and_(
        MessageRecord.message_type == "information-request",
        MessageRecord.due_date < now.date(),
        MessageRecord.status.in_([*_WAITING, "received"]),
        ~cancelled,
    )
    unreceipted = and_(
        MessageRecord.message_type != "receipt",
        MessageRecord.published_at < now - receipt_timeout,
        MessageRecord.status.in_(_WAITING),
    )
    rows = await session.execute(
        select(MessageRecord.message_id, MessageRecord.sender, MessageRecord.case_id)
        .where(MessageRecord.sender != SILTA, ~flagged, or_(request_past_due, unreceipted))
        .order_by(MessageRecord.accepted_at)
    )
    overdue = list(rows)
    await record_steps(session, [StatusStep(message_id, "overdue", now) for message_id, _, _ in overdue])
    notices = [
        overdue_notice(message_id, sender, case_id, signer)
        for message_id, sender, case_id in overdue
        if role_of(sender) is PartyRole.ORGANISER
    ]
    await insert_accepted(session, notices)
    return [message_id for message_id, _, _ in overdue]


class OverdueWatch:
    """Looks for overdue messages every `interval_s` seconds in the background."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signer: RecordSigner,
        receipt_timeout: dt.timedelta,
        interval_s: float,
        on_flagged: Callable[[], None],
    ) -> None:
        self._sessions = sessions
        self._signer = signer
        self._receipt_timeout = receipt_timeout
        self._interval_s = interval_s
        self._on_flagged = on_flagged
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching."""
        self._task = asyncio.create_task(self._run(), name="overdue-watch")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def check_once(self) -> list[str]:
        """Flag what is overdue now; returns the ids flagged."""
        async with self._sessions() as session, session.begin():
            flagged = await flag_overdue(session, dt.datetime.now(dt.UTC), self._receipt_timeout, self._signer)
        if flagged:
            log.info("overdue_flagged", count=len(flagged))
            self._on_flagged()
        return flagged

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:  # keep watching; the error is logged with its traceback
                log.exception("overdue_check_failed")
            await asyncio.sleep(self._interval_s)
