"""The checks that need what Silta holds, run by every channel after the pipeline and before storing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.accepted import AcceptedMessage
from broker.services.attachments import check_manifest
from broker.services.correlation import check_answer


async def check_against_store(session: AsyncSession, message: AcceptedMessage) -> AcceptedMessage:
    """Its attachments are held and match the manifest; what it answers is open to it. Returns it with its effects."""
    await check_manifest(session, message.attachments)
    return await check_answer(session, message)
