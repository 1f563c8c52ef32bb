"""Each message's status history: accepted → published → delivered → received → answered/returned.

Every step is a row in `message_events` and the message's `status` column
holds the latest, so a sender can follow what happened and when. Callers own
the session and its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.store.tables import MessageEvent, MessageRecord

STATUS_ORDER = ("accepted", "published", "delivered", "received", "answered", "returned")
"""Later steps never move a message back to an earlier status; `overdue` is a flag beside them."""


@dataclass(frozen=True)
class StatusStep:
    """One step in a message's history; `by_message_id` is the receipt or answer that caused it."""

    message_id: str
    status: str
    at: dt.datetime
    by_message_id: str | None = None


async def record_steps(session: AsyncSession, steps: Sequence[StatusStep]) -> None:
    """Append the steps and move each message's status forward (never back)."""
    if not steps:
        return
    await session.execute(
        insert(MessageEvent),
        [{"message_id": s.message_id, "status": s.status, "at": s.at, "by_message_id": s.by_message_id} for s in steps],
    )
    by_status: dict[str, list[str]] = {}
    for step in steps:
        if step.status in STATUS_ORDER:
            by_status.setdefault(step.status, []).append(step.message_id)
    for status, message_ids in by_status.items():
        earlier = list(STATUS_ORDER[: STATUS_ORDER.index(status)])
        if not earlier:  # the first step: the row was inserted with it
            continue
        await session.execute(
            update(MessageRecord)
            .where(MessageRecord.message_id.in_(message_ids), MessageRecord.status.in_(earlier))
            .values(status=status)
        )


async def history(session: AsyncSession, message_id: str) -> list[StatusStep]:
    """Every step of one message, oldest first."""
    rows = await session.execute(
        select(MessageEvent.status, MessageEvent.at, MessageEvent.by_message_id)
        .where(MessageEvent.message_id == message_id)
        .order_by(MessageEvent.id)
    )
    return [StatusStep(message_id, status, at, by) for status, at, by in rows]
