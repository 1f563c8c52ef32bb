"""Retention: message bodies and attachments are emptied after a configured time; log entries stay 12 years.

A message's retention period runs from its last step: the last receipt,
answer or delivery (`message_events`), so a message still being worked on
keeps its body. An attachment goes once every message that references it has
been purged and it is itself older than the cutoff. A kept REST rejection
(no body, only who, when, what code and the body's hash) is deleted once it
is older than the cutoff: it is operational data, not one of the logs.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.store.tables import Attachment, MessageAttachment, MessageEvent, MessageRecord, ParkedRecord, RestRejection


async def purge_bodies(session: AsyncSession, last_step_before: dt.datetime, now: dt.datetime) -> list[str]:
    """Empty the bodies of published messages whose last step came before the cutoff; the ids purged."""
    last_step = (
        select(MessageEvent.message_id, func.max(MessageEvent.at).label("last_at"))
        .group_by(MessageEvent.message_id)
        .subquery()
    )
    ids = list(
        await session.scalars(
            select(MessageRecord.message_id)
            .join(last_step, last_step.c.message_id == MessageRecord.message_id)
            .where(
                MessageRecord.published_at.is_not(None),
                MessageRecord.purged_at.is_(None),
                last_step.c.last_at < last_step_before,
            )
        )
    )
    if ids:
        await session.execute(
            update(MessageRecord).where(MessageRecord.message_id.in_(ids)).values(body=b"", purged_at=now)
        )
    return ids


async def purge_attachments(session: AsyncSession, uploaded_before: dt.datetime, now: dt.datetime) -> list[str]:
    """Empty attachments older than the cutoff that no unpurged message references; the ids purged."""
    still_needed = exists().where(
        MessageAttachment.attachment_id == Attachment.attachment_id,
        MessageAttachment.message_id == MessageRecord.message_id,
        MessageRecord.purged_at.is_(None),
    )
    ids = list(
        await session.scalars(
            select(Attachment.attachment_id).where(
                Attachment.purged_at.is_(None), Attachment.uploaded_at < uploaded_before, ~still_needed
            )
        )
    )
    if ids:
        await session.execute(
            update(Attachment).where(Attachment.attachment_id.in_(ids)).values(content=None, purged_at=now)
        )
    return ids


async def purge_parked(session: AsyncSession, parked_before: dt.datetime) -> int:
    """Empty the values of parked (rejected) records older than the cutoff; their position and code stay."""
    result = await session.execute(
        update(ParkedRecord)
        .where(ParkedRecord.parked_at < parked_before, ParkedRecord.value.is_not(None))
        .values(value=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_rest_rejections(session: AsyncSession, kept_before: dt.datetime) -> int:
    """Delete the kept REST rejections older than the cutoff; how many."""
    result = await session.execute(delete(RestRejection).where(RestRejection.at < kept_before))
    return int(getattr(result, "rowcount", 0) or 0)
