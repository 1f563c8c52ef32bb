"""Parked records and REST rejections: listed by a filter, locked one at a time, resolved.

Callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.dead_letters import DeadLetterFilter, ParkedState, RestRejectionFacts
from broker.domain.topics import topic_from
from broker.store.tables import ParkedRecord, RestRejection


def _state_clause(state: ParkedState) -> list[ColumnElement[bool]]:
    match state:
        case ParkedState.UNRESOLVED:
            return [ParkedRecord.replayed_at.is_(None), ParkedRecord.discarded_at.is_(None)]
        case ParkedState.REPLAYED:
            return [ParkedRecord.replayed_at.is_not(None)]
        case ParkedState.DISCARDED:
            return [ParkedRecord.discarded_at.is_not(None)]
        case ParkedState.ALL:
            return []


def _parked_clauses(wanted: DeadLetterFilter) -> list[ColumnElement[bool]]:
    clauses = _state_clause(wanted.state)
    if wanted.reason:
        clauses.append(ParkedRecord.error_code == wanted.reason)
    if wanted.topic:
        clauses.append(ParkedRecord.topic == wanted.topic)
    if wanted.sender:
        clauses.append(ParkedRecord.topic == _sender_topic(wanted.sender))
    if wanted.since:
        clauses.append(ParkedRecord.parked_at >= wanted.since)
    if wanted.until:
        clauses.append(ParkedRecord.parked_at < wanted.until)
    return clauses


def _sender_topic(sender: str) -> str:
    try:
        return topic_from(sender)
    except ValueError:
        return f"(no topic of {sender[:32]})"  # matches nothing, as a sender with no topic has no records


async def find_parked(session: AsyncSession, wanted: DeadLetterFilter) -> Sequence[ParkedRecord]:
    """One page of parked records matching the filter, by id, after `wanted.after`."""
    query = (
        select(ParkedRecord)
        .where(*_parked_clauses(wanted), ParkedRecord.id > wanted.after)
        .order_by(ParkedRecord.id)
        .limit(wanted.limit)
    )
    return (await session.scalars(query)).all()


async def parked_ids(session: AsyncSession, wanted: DeadLetterFilter) -> list[int]:
    """The ids of every parked record matching the filter (paging ignored), oldest first."""
    query = select(ParkedRecord.id).where(*_parked_clauses(wanted)).order_by(ParkedRecord.id)
    return list(await session.scalars(query))


async def parked_by_id(session: AsyncSession, record_id: int) -> ParkedRecord | None:
    """One parked record, or None."""
    query = select(ParkedRecord).where(ParkedRecord.id == record_id).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def lock_parked(session: AsyncSession, record_id: int) -> ParkedRecord | None:
    """One parked record, row-locked until the transaction ends, re-read as committed.

    PostgreSQL: FOR UPDATE. SQLite has no row locks and SQLAlchemy leaves the clause out there; its single
    writer serialises replays instead.
    """
    query = select(ParkedRecord).where(ParkedRecord.id == record_id).with_for_update()
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def update_parked(session: AsyncSession, record_id: int, **values: object) -> None:
    """Set columns of one parked record (its resolution, or its new error)."""
    await session.execute(update(ParkedRecord).where(ParkedRecord.id == record_id).values(**values))


async def insert_rest_rejection(session: AsyncSession, facts: RestRejectionFacts, at: dt.datetime) -> None:
    """Keep one REST rejection."""
    await session.execute(
        insert(RestRejection).values(
            at=at,
            client_id=facts.client_id,
            caller_party=facts.caller_party,
            method=facts.method,
            route=facts.route[:200],
            error_code=facts.error_code,
            status=facts.status,
            body_size=facts.body_size,
            body_sha256=facts.body_sha256,
            request_id=facts.request_id,
        )
    )


async def find_rest_rejections(session: AsyncSession, wanted: DeadLetterFilter) -> Sequence[RestRejection]:
    """One page of REST rejections by reason code, caller party and time; by id, after `wanted.after`."""
    clauses: list[ColumnElement[bool]] = [RestRejection.id > wanted.after]
    if wanted.reason:
        clauses.append(RestRejection.error_code == wanted.reason)
    if wanted.sender:
        clauses.append(RestRejection.caller_party == wanted.sender)
    if wanted.since:
        clauses.append(RestRejection.at >= wanted.since)
    if wanted.until:
        clauses.append(RestRejection.at < wanted.until)
    query = select(RestRejection).where(*clauses).order_by(RestRejection.id).limit(wanted.limit)
    return (await session.scalars(query)).all()
