"""Each message's status history: one row per step in `message_events`, the latest status on the message.

The status moves as `broker.domain.lifecycle.advance` says; this module only
writes what the lifecycle decided, set-wise. Callers own the session and its
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.lifecycle import Event, Status, moves
from broker.store.tables import MessageEvent, MessageRecord


@dataclass(frozen=True)
class StatusStep:
    """One step in a message's history; `by_message_id` is the receipt or answer that caused it."""

    message_id: str
    event: Event
    at: dt.datetime
    by_message_id: str | None = None


async def record_steps(session: AsyncSession, steps: Sequence[StatusStep]) -> None:
    """Append the steps and move each message's status as the lifecycle says (never back)."""
    if not steps:
        return
    await session.execute(
        insert(MessageEvent),
        [_event_row(step) for step in steps],
    )
    by_event: dict[Event, list[str]] = {}
    for step in steps:
        if step.event is not Event.ACCEPTED:  # the first step: the row was inserted with it
            by_event.setdefault(step.event, []).append(step.message_id)
    for event, message_ids in by_event.items():
        sources: dict[Status, list[str]] = {}
        for before, after in moves(event).items():
            sources.setdefault(after, []).append(str(before))
        for after, befores in sources.items():  # one statement per status reached, as before the lifecycle
            await session.execute(
                update(MessageRecord)
                .where(MessageRecord.message_id.in_(message_ids), MessageRecord.status.in_(befores))
                .values(status=str(after))
            )


def _event_row(step: StatusStep) -> dict[str, object]:
    status = str(step.event)
    return {"message_id": step.message_id, "status": status, "at": step.at, "by_message_id": step.by_message_id}


async def history(session: AsyncSession, message_id: str) -> list[StatusStep]:
    """Every step of one message, oldest first."""
    rows = await session.execute(
        select(MessageEvent.status, MessageEvent.at, MessageEvent.by_message_id)
        .where(MessageEvent.message_id == message_id)
        .order_by(MessageEvent.id)
    )
    return [StatusStep(message_id, Event(status), at, by) for status, at, by in rows]
