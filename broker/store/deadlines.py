"""The set-wise queries of the deadline sweep: what has passed its deadline, and what is near it.

Each catalogue type with a `Deadline` gets its own condition (its statuses in
which the deadline runs, its due date or agreed working days); every other
type but the receipt has the receipt timeout as its deadline. The working-day
arithmetic is turned into plain bounds on `published_at` and `due_date` in
Python first (`broker.domain.deadlines`), so the database compares columns
only. Callers own the session and its transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Exists, ScalarSelect, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broker.domain.catalogue import CATALOGUE, RECEIPT, MessageType
from broker.domain.clock import finnish_date
from broker.domain.deadlines import Awaited, Deadline, published_by, reminder_horizon
from broker.domain.lifecycle import Event
from broker.domain.parties import SILTA
from broker.store.tables import MessageEvent, MessageRecord

_WITH_DEADLINE = [t for t in CATALOGUE.values() if t.deadline is not None]
_FALLBACK_UNMET = [str(s) for s in Awaited.BUSINESS_RECEIPT.unmet]


@dataclass(frozen=True)
class Due:
    """A message whose deadline passed or is near, with what its notice needs."""

    message_id: str
    message_type: str
    sender: str
    recipient: str
    case_id: str
    due_date: dt.date | None
    published_at: dt.datetime | None
    body: bytes | None
    earlier: int
    """How many steps of the sweep's kind (`overdue` or `reminder-due`) the message already has."""


async def past_deadline(session: AsyncSession, now: dt.datetime, receipt_timeout: dt.timedelta) -> list[Due]:
    """Open messages past their deadline, not flagged since the requester's last reminder, oldest first."""
    conditions = [_type_past(t, t.deadline, now, receipt_timeout) for t in _WITH_DEADLINE if t.deadline]
    conditions.append(_fallback_past(now, receipt_timeout))
    return await _select(session, or_(*conditions), Event.OVERDUE)


async def near_deadline(session: AsyncSession, now: dt.datetime) -> list[Due]:
    """Open messages whose deadline is near enough to remind of, not reminded since the last new due date."""
    conditions = [_type_near(t, t.deadline, now) for t in _WITH_DEADLINE if t.deadline and t.deadline.reminds]
    return await _select(session, or_(false(), *conditions), Event.REMINDER_DUE)


async def _select(session: AsyncSession, condition: ColumnElement[bool], kind: Event) -> list[Due]:
    m = MessageRecord
    rows = await session.execute(
        select(m.message_id, m.message_type, m.sender, m.recipient, m.case_id, m.due_date, m.published_at)
        .add_columns(m.body, _steps_so_far(kind))
        .where(m.sender != SILTA, ~_step_since_last_reminder(kind), condition)
        .order_by(m.accepted_at)
    )
    return [Due(*row) for row in rows]


def _type_past(
    message_type: MessageType, deadline: Deadline, now: dt.datetime, timeout: dt.timedelta
) -> ColumnElement[bool]:
    today = finnish_date(now)
    if deadline.working_days is None:
        started = MessageRecord.accepted_at if deadline.awaits is Awaited.DELIVERY else MessageRecord.published_at
        passed: ColumnElement[bool] = started < now - timeout
    else:
        passed = MessageRecord.published_at < published_by(deadline.working_days, today - dt.timedelta(days=1))
    if deadline.from_due_date:
        passed = or_(MessageRecord.due_date < today, and_(MessageRecord.due_date.is_(None), passed))
    return _of_type(message_type, deadline, passed)


def _type_near(message_type: MessageType, deadline: Deadline, now: dt.datetime) -> ColumnElement[bool]:
    today = finnish_date(now)
    horizon = reminder_horizon(today, deadline.reminder_lead_days)
    near: ColumnElement[bool] = false()
    if deadline.working_days is not None:
        published = MessageRecord.published_at
        near = and_(
            published >= published_by(deadline.working_days, today - dt.timedelta(days=1)),
            published < published_by(deadline.working_days, horizon),
        )
    if deadline.from_due_date:
        due = MessageRecord.due_date
        near = or_(and_(due >= today, due <= horizon), and_(due.is_(None), near))
    return _of_type(message_type, deadline, near)


def _of_type(message_type: MessageType, deadline: Deadline, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    statuses = [str(s) for s in deadline.awaits.unmet]
    return and_(MessageRecord.message_type == message_type.name, MessageRecord.status.in_(statuses), condition)


def _fallback_past(now: dt.datetime, timeout: dt.timedelta) -> ColumnElement[bool]:
    """A type without its own deadline: a business receipt within the receipt timeout after publication."""
    return and_(
        MessageRecord.message_type.not_in([RECEIPT.name, *(t.name for t in _WITH_DEADLINE)]),
        MessageRecord.published_at < now - timeout,
        MessageRecord.status.in_(_FALLBACK_UNMET),
    )


def _step_since_last_reminder(kind: Event) -> Exists:
    """A `kind` step with no requester's `reminded` step (which sets a new due date) after it."""
    step, reminder = aliased(MessageEvent), aliased(MessageEvent)
    reminded_since = exists().where(
        reminder.message_id == step.message_id, reminder.status == str(Event.REMINDED), reminder.id > step.id
    )
    return exists().where(step.message_id == MessageRecord.message_id, step.status == str(kind), ~reminded_since)


def _steps_so_far(kind: Event) -> ScalarSelect[int]:
    """How many `kind` steps the message has (each notice of that kind gets its own id)."""
    step = aliased(MessageEvent)
    return (
        select(func.count()).where(step.message_id == MessageRecord.message_id, step.status == str(kind))
    ).scalar_subquery()
