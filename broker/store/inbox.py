"""Kela's inbox: messages delivered to Kela wait here until Kela receipts them.

Entries are written by the outbox relays. Several instances' relays claim
different record keys, so nothing else orders their transactions: each takes
the inbox's delivery lock (a transaction-scoped advisory lock) before it draws
a `seq`, so `seq` values commit in increasing order and a cursor (`seq` of the
last entry read) never skips an entry that commits later. Without it a relay
could draw seq 10, another 11 and commit first, and a reader listing 11 moved
past 10 for good.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.lifecycle import Event
from broker.store.outbox_claim import RELAY_LOCK_NAMESPACE
from broker.store.singleton import on_postgresql
from broker.store.tables import InboxEntry, MessageRecord
from broker.store.tracking import StatusStep, record_steps

_DELIVERY_LOCK = (RELAY_LOCK_NAMESPACE + 1, 0)
"""The inbox delivery lock's two-int key: a namespace of its own beside the relay's key locks."""


@dataclass(frozen=True)
class InboxItem:
    """One open entry of an inbox, as the listing shows it."""

    seq: int
    message_id: str
    message_type: str


async def deliver(session: AsyncSession, recipient: str, message_ids: Sequence[str], at: dt.datetime) -> None:
    """Put delivered messages into `recipient`'s inbox, in the given order."""
    if not message_ids:
        return
    if on_postgresql(session):  # SQLite has one writer at a time already
        namespace, key = _DELIVERY_LOCK
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :key)"), {"namespace": namespace, "key": key}
        )
    await session.execute(
        insert(InboxEntry), [{"message_id": m, "recipient": recipient, "available_at": at} for m in message_ids]
    )
    await record_steps(session, [StatusStep(m, Event.DELIVERED, at) for m in message_ids])


async def open_items(session: AsyncSession, recipient: str, after: int, limit: int) -> list[InboxItem]:
    """Unreceipted entries after the cursor, oldest first."""
    rows = await session.execute(
        select(InboxEntry.seq, InboxEntry.message_id, MessageRecord.message_type)
        .join(MessageRecord, MessageRecord.message_id == InboxEntry.message_id)
        .where(InboxEntry.recipient == recipient, InboxEntry.seq > after, InboxEntry.receipted_at.is_(None))
        .order_by(InboxEntry.seq)
        .limit(limit)
    )
    return [InboxItem(seq, message_id, message_type) for seq, message_id, message_type in rows]


async def entry(session: AsyncSession, recipient: str, message_id: str, *, lock: bool = False) -> InboxEntry | None:
    """The inbox entry of one message, if it was delivered to `recipient`; `lock` holds its row (PostgreSQL)."""
    query = select(InboxEntry).where(InboxEntry.recipient == recipient, InboxEntry.message_id == message_id)
    found = await session.execute(query.with_for_update() if lock else query)
    return found.scalar_one_or_none()


async def mark_receipted(session: AsyncSession, seq: int, receipt_id: str, at: dt.datetime) -> None:
    """Close an entry: the recipient took the message into its case system."""
    await session.execute(
        update(InboxEntry).where(InboxEntry.seq == seq).values(receipted_at=at, receipt_id=receipt_id)
    )
