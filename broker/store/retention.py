"""Retention: message bodies are emptied after a configured time; the log entries about them stay 12 years.

Until business receipts exist, the retention period runs from publication;
with receipts it will run from the last receipt.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.store.tables import MessageRecord


async def purge_bodies(session: AsyncSession, published_before: dt.datetime, now: dt.datetime) -> list[str]:
    """Empty the bodies of messages published before the cutoff; the ids purged."""
    ids = list(
        await session.scalars(
            select(MessageRecord.message_id).where(
                MessageRecord.published_at < published_before, MessageRecord.purged_at.is_(None)
            )
        )
    )
    if ids:
        await session.execute(
            update(MessageRecord).where(MessageRecord.message_id.in_(ids)).values(body=b"", purged_at=now)
        )
    return ids
