"""Overdue: requests past their due date without an answer, and messages nobody receipted in time.

Each overdue message gets an `overdue` step in its history (Kela sees it in
the status) and, if an organiser sent it, Silta tells the organiser with a
technical notice on its topic (a receipt whose outcome is `overdue`). A
reminder with a new due date moves the request's due date: the request is
watched again, and flagged again if the new date passes too.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import structlog
from sqlalchemy import Exists, ScalarSelect, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from broker.domain.catalogue import INFORMATION_REQUEST, RECEIPT
from broker.domain.clock import finnish_date
from broker.domain.lifecycle import TRANSPORT, Event, Status
from broker.domain.parties import SILTA, PartyRole, role_of
from broker.services.receipts import ReceiptWriter
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from broker.store.messages import insert_accepted
from broker.store.singleton import SingletonJob, hold_round_lock
from broker.store.tables import MessageEvent, MessageRecord
from broker.store.tracking import StatusStep, record_steps

log = structlog.get_logger(__name__)
_UNRECEIPTED = [str(s) for s in TRANSPORT if s is not Status.RECEIVED]
_OPEN = [str(s) for s in TRANSPORT]


class OverdueSweep:
    """The use case "flag what is overdue now"."""

    def __init__(self, receipts: ReceiptWriter, receipt_timeout: dt.timedelta) -> None:
        self._receipts = receipts
        self._receipt_timeout = receipt_timeout

    async def run(self, uow: UnitOfWork) -> list[str]:
        """Flag every newly overdue message in the unit of work; returns their ids."""
        now = uow.now
        request_past_due = and_(
            MessageRecord.message_type == INFORMATION_REQUEST.name,
            MessageRecord.due_date < finnish_date(now),
            MessageRecord.status.in_(_OPEN),
        )
        unreceipted = and_(
            MessageRecord.message_type != RECEIPT.name,
            MessageRecord.published_at < now - self._receipt_timeout,
            MessageRecord.status.in_(_UNRECEIPTED),
        )
        rows = await uow.session.execute(
            select(MessageRecord.message_id, MessageRecord.sender, MessageRecord.case_id, _flags_so_far())
            .where(MessageRecord.sender != SILTA, ~_flagged_since_last_reminder(), or_(request_past_due, unreceipted))
            .order_by(MessageRecord.accepted_at)
        )
        overdue = list(rows)
        await record_steps(uow.session, [StatusStep(message_id, Event.OVERDUE, now) for message_id, *_ in overdue])
        notices = [
            self._receipts.overdue_notice(message_id, sender, case_id, now, flagged=flags + 1)
            for message_id, sender, case_id, flags in overdue
            if role_of(sender) is PartyRole.ORGANISER
        ]
        await insert_accepted(uow.session, notices)
        if overdue:
            uow.outbox_written()
        return [message_id for message_id, *_ in overdue]


def _flagged_since_last_reminder() -> Exists:
    """An `overdue` step with no `reminded` step after it."""
    flag, reminder = aliased(MessageEvent), aliased(MessageEvent)
    reminded_since = exists().where(
        reminder.message_id == flag.message_id, reminder.status == str(Event.REMINDED), reminder.id > flag.id
    )
    return exists().where(
        flag.message_id == MessageRecord.message_id, flag.status == str(Event.OVERDUE), ~reminded_since
    )


def _flags_so_far() -> ScalarSelect[int]:
    """How often the message was flagged before (each flag's notice gets its own id)."""
    flag = aliased(MessageEvent)
    return (
        select(func.count())
        .where(flag.message_id == MessageRecord.message_id, flag.status == str(Event.OVERDUE))
        .scalar_subquery()
    )


class OverdueWatch:
    """Runs the sweep every `interval_s` seconds in the background, each run in its own unit of work.

    Every instance runs a watch; a round sweeps only in the instance that holds
    the overdue watch's advisory lock (see `broker.store.singleton`), so two
    instances never flag the same message twice.
    """

    def __init__(self, units: UnitOfWorkFactory, sweep: OverdueSweep, interval_s: float) -> None:
        self._units = units
        self._sweep = sweep
        self._interval_s = interval_s
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
        """Flag what is overdue now (unless another instance's round is under way); returns the ids flagged."""
        async with self._units() as uow:
            if not await hold_round_lock(uow.session, SingletonJob.OVERDUE_WATCH):
                return []
            flagged = await self._sweep.run(uow)
            await uow.commit()
        if flagged:
            log.info("overdue_flagged", count=len(flagged))
        return flagged

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:  # keep watching; the error is logged with its traceback
                log.exception("overdue_check_failed")
            await asyncio.sleep(self._interval_s)
