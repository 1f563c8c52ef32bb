"""The tracking search's queries: messages by party, case, type, time and status, in keyset order.

The order is (accepted_at, message_id); the indexes of migration 0015 serve
it for all messages and for each sender and recipient. Callers own the session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.lifecycle import Event
from broker.domain.message_search import PageRequest, Position, SearchFilters
from broker.store.tables import MessageEvent, MessageRecord
from broker.store.tracking import StatusStep

_FLAG_EVENTS = (str(Event.OVERDUE), str(Event.REMINDED))
_COLUMNS = (  # never the body: a search shows where messages are, not what they say
    MessageRecord.message_id,
    MessageRecord.message_type,
    MessageRecord.sender,
    MessageRecord.recipient,
    MessageRecord.case_id,
    MessageRecord.status,
    MessageRecord.accepted_at,
    MessageRecord.due_date,
)


_Query = Select[str, str, str, str, str, str, dt.datetime, dt.date | None]


@dataclass(frozen=True)
class FoundMessage:
    """One message a search found: what it is and where it is, never its body."""

    message_id: str
    message_type: str
    sender: str
    recipient: str
    case_id: str
    status: str
    accepted_at: dt.datetime
    due_date: dt.date | None

    @property
    def position(self) -> Position:
        """Its place in the search order."""
        return Position(self.accepted_at, self.message_id)


def _query(visible_to: str | None, filters: SearchFilters) -> _Query:
    """The messages `visible_to` sent or receives (None: every message) that pass the filters."""
    query = select(*_COLUMNS)
    if visible_to is not None:
        query = query.where(or_(MessageRecord.sender == visible_to, MessageRecord.recipient == visible_to))
    if filters.party is not None:
        query = query.where(or_(MessageRecord.sender == filters.party, MessageRecord.recipient == filters.party))
    if filters.case_id is not None:
        query = query.where(MessageRecord.case_id == filters.case_id)
    if filters.message_type is not None:
        query = query.where(MessageRecord.message_type == filters.message_type)
    if filters.status is not None:
        query = query.where(MessageRecord.status == str(filters.status))
    if filters.since is not None:
        query = query.where(MessageRecord.accepted_at >= filters.since)
    if filters.until is not None:
        query = query.where(MessageRecord.accepted_at < filters.until)
    return query


def _after(query: _Query, position: Position | None) -> _Query:
    if position is None:
        return query
    return query.where(
        or_(
            MessageRecord.accepted_at > position.accepted_at,
            and_(MessageRecord.accepted_at == position.accepted_at, MessageRecord.message_id > position.message_id),
        )
    )


async def find_messages(
    session: AsyncSession, visible_to: str | None, filters: SearchFilters, page: PageRequest, extra: int = 0
) -> list[FoundMessage]:
    """Up to `page.limit + extra` matching messages after the page's position, in (accepted_at, message_id) order."""
    query = (
        _after(_query(visible_to, filters), page.after)
        .order_by(MessageRecord.accepted_at, MessageRecord.message_id)
        .limit(page.limit + extra)
    )
    return [FoundMessage(*row) for row in await session.execute(query)]


async def flag_steps(session: AsyncSession, message_ids: Sequence[str]) -> dict[str, list[StatusStep]]:
    """The overdue and reminded steps of each of the messages, oldest first (messages without any: absent)."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(MessageEvent.message_id, MessageEvent.status, MessageEvent.at)
        .where(MessageEvent.message_id.in_(message_ids), MessageEvent.status.in_(_FLAG_EVENTS))
        .order_by(MessageEvent.id)
    )
    steps: dict[str, list[StatusStep]] = {}
    for message_id, status, at in rows:
        steps.setdefault(message_id, []).append(StatusStep(message_id, Event(status), at))
    return steps
