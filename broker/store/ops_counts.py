"""Counts for the operations gauges: outbox backlog, parked records, open and overdue requests, last deliveries.

Read-only, set-wise.

Each is one grouped query; the `/metrics` scrape runs them, never a request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from broker.domain.lifecycle import TRANSPORT, Event
from broker.store.tables import MessageEvent, MessageRecord, OutboxRecord, ParkedRecord

_OPEN = [str(s) for s in TRANSPORT]


async def outbox_pending_by_recipient(session: AsyncSession) -> dict[str, int]:
    """Outbox rows not yet published, by the recipient of their message."""
    rows = await session.execute(
        select(MessageRecord.recipient, func.count())
        .join(OutboxRecord, OutboxRecord.message_id == MessageRecord.message_id)
        .where(OutboxRecord.published_at.is_(None))
        .group_by(MessageRecord.recipient)
    )
    return dict(rows.all())


async def parked_by_reason(session: AsyncSession) -> dict[str, int]:
    """Parked records still to resolve (neither replayed nor discarded), by their error code."""
    rows = await session.execute(
        select(ParkedRecord.error_code, func.count())
        .where(ParkedRecord.replayed_at.is_(None), ParkedRecord.discarded_at.is_(None))
        .group_by(ParkedRecord.error_code)
    )
    return dict(rows.all())


async def overdue_by_party(session: AsyncSession) -> dict[str, int]:
    """Open messages flagged overdue (and not reminded since), by the party that owes the answer or receipt."""
    rows = await session.execute(
        select(MessageRecord.recipient, func.count())
        .where(MessageRecord.status.in_(_OPEN), _flagged_since_last_reminder())
        .group_by(MessageRecord.recipient)
    )
    return dict(rows.all())


async def open_requests_by_party(session: AsyncSession) -> dict[str, int]:
    """Open requests for further information (messages with a due date, not yet answered), by the party asked."""
    rows = await session.execute(
        select(MessageRecord.recipient, func.count())
        .where(MessageRecord.status.in_(_OPEN), MessageRecord.due_date.is_not(None))
        .group_by(MessageRecord.recipient)
    )
    return dict(rows.all())


async def last_delivery_by_party(session: AsyncSession) -> dict[str, dt.datetime]:
    """When a message was last delivered to each party (its newest `delivered` step); `max` keeps the UTC type."""
    rows = await session.execute(
        select(MessageRecord.recipient, func.max(MessageEvent.at))
        .join(MessageEvent, MessageEvent.message_id == MessageRecord.message_id)
        .where(MessageEvent.status == str(Event.DELIVERED))
        .group_by(MessageRecord.recipient)
    )
    return dict(rows.all())


async def accepted_times(session: AsyncSession, message_ids: Sequence[str]) -> dict[str, dt.datetime]:
    """When each of these messages was accepted."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(MessageRecord.message_id, MessageRecord.accepted_at).where(MessageRecord.message_id.in_(message_ids))
    )
    return dict(rows.all())


def _flagged_since_last_reminder() -> Exists:
    """An `overdue` step with no `reminded` step after it (as the overdue watch decides)."""
    flag, reminder = aliased(MessageEvent), aliased(MessageEvent)
    reminded_since = exists().where(
        reminder.message_id == flag.message_id, reminder.status == str(Event.REMINDED), reminder.id > flag.id
    )
    return exists().where(
        flag.message_id == MessageRecord.message_id, flag.status == str(Event.OVERDUE), ~reminded_since
    )
