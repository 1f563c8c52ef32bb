"""Queries on messages and the outbox. Callers own the session and its transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.accepted import AcceptedMessage, OutboundRecord, SaveOutcome
from broker.store.tables import MessageRecord, OutboxRecord


async def known_hashes(session: AsyncSession, message_ids: Sequence[str]) -> dict[str, str]:
    """Content hashes of the messages among `message_ids` that are already stored."""
    rows = await session.execute(
        select(MessageRecord.message_id, MessageRecord.content_sha256).where(MessageRecord.message_id.in_(message_ids))
    )
    return dict(rows.all())


def classify(messages: Sequence[AcceptedMessage], known: dict[str, str]) -> list[SaveOutcome]:
    """Decide per message: store it, answer it as a duplicate, or refuse it as a conflict."""
    seen = dict(known)
    outcomes = []
    for message in messages:
        previous = seen.get(message.message_id)
        if previous is None:
            outcomes.append(SaveOutcome.STORED)
            seen[message.message_id] = message.content_sha256
        elif previous == message.content_sha256:
            outcomes.append(SaveOutcome.DUPLICATE)
        else:
            outcomes.append(SaveOutcome.CONFLICT)
    return outcomes


def add_accepted(session: AsyncSession, message: AcceptedMessage) -> None:
    """Add the message and its outbox row to the session's transaction."""
    session.add(
        MessageRecord(
            message_id=message.message_id,
            message_type=message.message_type,
            sender=message.sender,
            recipient=message.recipient,
            case_id=message.case_id,
            correlation_id=message.correlation_id,
            content_sha256=message.content_sha256,
            body=message.record.value,
            removed_fields=message.removed_fields,
            policy_version=message.policy_version,
            status="accepted",
            accepted_at=message.accepted_at,
        )
    )
    session.add(
        OutboxRecord(
            message_id=message.message_id,
            topic=message.record.topic,
            record_key=message.record.key,
            headers=message.record.headers,
            created_at=message.accepted_at,
        )
    )


async def get_message(session: AsyncSession, message_id: str) -> MessageRecord | None:
    """One stored message, or None."""
    return await session.get(MessageRecord, message_id)


@dataclass(frozen=True)
class PendingRecord:
    """An outbox row not yet published, with the record to publish."""

    outbox_id: int
    message_id: str
    record: OutboundRecord


async def pending_records(session: AsyncSession, limit: int) -> list[PendingRecord]:
    """The oldest unpublished outbox rows, locked (on PostgreSQL) until the transaction ends.

    Relays on several instances queue behind the lock instead of skipping rows,
    so records about one case keep their order on the topic.
    """
    query = (
        select(OutboxRecord, MessageRecord.body)
        .join(MessageRecord, MessageRecord.message_id == OutboxRecord.message_id)
        .where(OutboxRecord.published_at.is_(None))
        .order_by(OutboxRecord.id)
        .limit(limit)
        .with_for_update(of=OutboxRecord)
    )
    rows = await session.execute(query)
    return [
        PendingRecord(row.id, row.message_id, OutboundRecord(row.topic, row.record_key, dict(row.headers), body))
        for row, body in rows
    ]


async def mark_published(session: AsyncSession, records: Sequence[PendingRecord], at: dt.datetime) -> None:
    """Record that these outbox rows reached Kafka."""
    await session.execute(
        update(OutboxRecord).where(OutboxRecord.id.in_([r.outbox_id for r in records])).values(published_at=at)
    )
    await session.execute(
        update(MessageRecord)
        .where(MessageRecord.message_id.in_([r.message_id for r in records]))
        .values(status="published", published_at=at)
    )
