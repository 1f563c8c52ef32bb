"""The checks that need what Silta holds, run by every channel after the pipeline and before storing.

Every channel asks the same questions in the same order, so a duplicate is
answered the same whichever way it came: first whether the message id is
known (the same content again is a duplicate, other content a conflict), then
whether its attachments are held and what it answers is open to it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.accepted import AcceptedMessage, SaveOutcome
from broker.domain.catalogue import CATALOGUE
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.services.attachments import check_manifest
from broker.services.correlation import check_answer
from broker.store.messages import classify, known_hashes


async def admit(session: AsyncSession, message: AcceptedMessage) -> tuple[SaveOutcome, AcceptedMessage]:
    """Whether to store the message (checked, with its effects) or answer it as a duplicate; a conflict is refused."""
    outcome = classify([message], await known_hashes(session, [message.message_id]))[0]
    if outcome is SaveOutcome.CONFLICT:
        raise Rejection(
            ErrorCode.MESSAGE_ID_CONFLICT,
            f"message id {message.message_id} was already used for a different document",
            [ErrorItem("/Envelope/MessageId", "already used")],
        )
    if outcome is SaveOutcome.DUPLICATE:
        return outcome, message
    return outcome, await check_against_store(session, message)


def needs_store_checks(message: AcceptedMessage) -> bool:
    """Whether anything about the message depends on what Silta holds: attachments, or what it answers.

    A message with neither (most transfers and notices) can go straight to the group committer, which tells a
    duplicate or a conflict apart in its own transaction; the hot path then costs no extra round trip.
    """
    answers = CATALOGUE[message.message_type].answers is not None and message.correlation_id is not None
    return answers or bool(message.attachments)


async def check_against_store(session: AsyncSession, message: AcceptedMessage) -> AcceptedMessage:
    """Its attachments are held and match the manifest; what it answers is open to it. Returns it with its effects."""
    await check_manifest(session, message.attachments)
    return await check_answer(session, message)
