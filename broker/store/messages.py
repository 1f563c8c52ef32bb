"""Queries on messages and the outbox. Callers own the session and its transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain import headers as hdr
from broker.domain.accepted import AcceptedMessage, OutboundRecord, SaveOutcome
from broker.domain.disclosure import PSEUDONYM_VERSION, DisclosureFacts
from broker.domain.lifecycle import Event, Status
from broker.store.outbox_claim import claimed_keys
from broker.store.tables import MessageAttachment, MessageRecord, OutboxRecord
from broker.store.tracking import StatusStep, record_steps


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


async def insert_accepted(session: AsyncSession, messages: Sequence[AcceptedMessage]) -> None:
    """Insert the messages and their outbox rows in the session's transaction (one statement each)."""
    if not messages:
        return
    await session.execute(
        insert(MessageRecord),
        [
            {
                "message_id": m.message_id,
                "message_type": m.message_type,
                "schema_version": m.schema_version,
                "sender": m.sender,
                "recipient": m.recipient,
                "case_id": m.case_id,
                "correlation_id": m.correlation_id,
                "content_sha256": m.content_sha256,
                "body": m.record.value,
                "removed_fields": m.removed_fields,
                "policy_version": m.policy_version,
                "disclosure": m.disclosure.to_json(),
                "status": str(Status.ACCEPTED),
                "accepted_at": m.accepted_at,
                "due_date": m.due_date,
                "subject": m.disclosure.data_subject,
                "request_id": m.request_id,
                "calling_member": m.calling_member,
            }
            for m in messages
        ],
    )
    links = [(m.message_id, a) for m in messages for a in m.delivered_attachments]
    if links:
        await session.execute(
            insert(MessageAttachment), [{"message_id": m, "attachment_id": a} for m, a in sorted(set(links))]
        )
    steps = [StatusStep(m.message_id, Event.ACCEPTED, m.accepted_at) for m in messages]
    steps += [StatusStep(a.target_id, a.event, m.accepted_at, m.message_id) for m in messages for a in m.advances]
    await record_steps(session, steps)
    for advance in (a for m in messages for a in m.advances if a.new_due_date is not None):
        await session.execute(
            update(MessageRecord)
            .where(MessageRecord.message_id == advance.target_id)
            .values(due_date=advance.new_due_date)
        )
    await session.execute(
        insert(OutboxRecord),
        [
            {
                "message_id": m.message_id,
                "topic": m.record.topic,
                "record_key": m.record.key,
                "headers": m.record.headers,
                "created_at": m.accepted_at,
            }
            for m in messages
        ],
    )


async def get_message(session: AsyncSession, message_id: str) -> MessageRecord | None:
    """One stored message, or None."""
    return await session.get(MessageRecord, message_id)


@dataclass(frozen=True)
class PendingRecord:
    """An outbox row not yet published, with the record to publish and its disclosure facts."""

    outbox_id: int
    message_id: str
    record: OutboundRecord
    disclosure: DisclosureFacts


async def pending_records(
    session: AsyncSession, limit: int, skip_topics: frozenset[str] = frozenset()
) -> list[PendingRecord]:
    """The oldest unpublished outbox rows, locked (on PostgreSQL) until the transaction ends.

    On PostgreSQL only rows of the record keys this transaction claimed (see
    `broker.store.outbox_claim`): relays on several instances share the outbox
    without waiting on each other, and each key's records keep their order.
    """
    keys = await claimed_keys(session, limit, skip_topics)
    if keys == []:
        return []
    query = (
        select(
            OutboxRecord.id,
            OutboxRecord.message_id,
            OutboxRecord.topic,
            OutboxRecord.record_key,
            OutboxRecord.headers,
            MessageRecord.body,
            MessageRecord.disclosure,
        )
        .join(MessageRecord, MessageRecord.message_id == OutboxRecord.message_id)
        .where(OutboxRecord.published_at.is_(None), OutboxRecord.topic.not_in(skip_topics))
        .order_by(OutboxRecord.id)
        .limit(limit)
        .with_for_update(of=OutboxRecord)
    )
    if keys is not None:
        query = query.where(OutboxRecord.record_key.in_(keys))
    rows = await session.execute(query)
    return [
        PendingRecord(
            outbox_id,
            message_id,
            OutboundRecord(topic, key, dict(headers), body),
            DisclosureFacts.from_json(disclosure),
        )
        for outbox_id, message_id, topic, key, headers, body, disclosure in rows
    ]


def _facts_payload(pending: PendingRecord) -> tuple[DisclosureFacts, dict[str, Any]]:
    facts, headers = pending.disclosure, pending.record.headers
    return facts, {
        "message_id": pending.message_id,
        "message_type": headers.get(hdr.MESSAGE_TYPE),
        "categories": list(facts.categories),
        "legal_bases": list(facts.legal_bases),
        "purposes": list(facts.purposes),
        "policy_version": facts.policy_version,
    }


def disclosure_entries(records: Sequence[PendingRecord]) -> list[tuple[str | None, dict[str, Any]]]:
    """One disclosure-log entry per person per published record (703/2023 10 §)."""
    entries: list[tuple[str | None, dict[str, Any]]] = []
    for pending in records:
        facts, common = _facts_payload(pending)
        headers = pending.record.headers
        payload = {**common, "discloser": headers.get(hdr.SENDER), "recipient": headers.get(hdr.RECIPIENT)}
        payload[PSEUDONYM_VERSION] = facts.pseudonym_version
        entries.extend((subject, payload) for subject in facts.subjects)
    return entries


def receipt_entries(records: Sequence[PendingRecord]) -> list[tuple[str | None, dict[str, Any]]]:
    """One receipt-record entry per delivered record (703/2023 39 §): what, from whom, who asked, on what basis."""
    entries: list[tuple[str | None, dict[str, Any]]] = []
    for pending in records:
        facts, common = _facts_payload(pending)
        headers = pending.record.headers
        payload = {
            **common,
            "received_by": headers.get(hdr.RECIPIENT),
            "received_from": headers.get(hdr.SENDER),
            "in_answer_to": headers.get(hdr.CORRELATION_ID),
        }
        subject = facts.subject_pseudonym()
        entries.append((None, payload) if subject is None else (subject.value, payload | subject.payload()))
    return entries


async def mark_published(session: AsyncSession, records: Sequence[PendingRecord], at: dt.datetime) -> None:
    """Record that these outbox rows reached Kafka (or Kela's inbox)."""
    await session.execute(
        update(OutboxRecord).where(OutboxRecord.id.in_([r.outbox_id for r in records])).values(published_at=at)
    )
    await session.execute(
        update(MessageRecord)
        .where(MessageRecord.message_id.in_([r.message_id for r in records]))
        .values(published_at=at)
    )
    await record_steps(session, [StatusStep(r.message_id, Event.PUBLISHED, at) for r in records])
