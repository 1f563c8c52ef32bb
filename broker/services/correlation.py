"""Answers and receipts must refer to a message that exists, was addressed to their sender, and is still open.

A response to an unknown, cancelled or already answered request is rejected
with a code that says which; the lifecycle (`broker.domain.lifecycle`) decides
what the message it answers may still undergo, and the catalogue says which
step each type causes: a technical receipt marks it delivered, a business
receipt received, a response answered, a cancellation cancelled, a transfer
return returned, and a reminder reminded (with the new due date it carries).
"""

from __future__ import annotations

import dataclasses

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.accepted import AcceptedMessage, Advance
from broker.domain.catalogue import CATALOGUE, CLOSING_TYPES, RECEIPT, MessageType
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.lifecycle import Event, IllegalTransition, Status, advance
from broker.store.messages import get_message
from broker.store.tables import MessageRecord


async def check_answer(session: AsyncSession, message: AcceptedMessage) -> AcceptedMessage:
    """The message with the step it causes, or a `Rejection` if what it answers is not open to it."""
    message_type = CATALOGUE[message.message_type]
    if message_type.answers is None or message.correlation_id is None:
        return message
    where = f"/{message_type.root_element}/Envelope/CorrelationId"
    target = await get_message(session, message.correlation_id)
    if target is None:
        raise Rejection(ErrorCode.CORRELATION_UNKNOWN, "the message it answers is unknown", [_item(where, "unknown")])
    _check_type_and_parties(message, message_type, target, where)
    event = _event(message, message_type)
    _check_transition(Status(target.status), event, where)
    if message_type.closes_request:
        await _check_no_other_closing_answer(session, target.message_id, message, where)
    due = message.due_date if message_type.follows_up else None
    return dataclasses.replace(message, advances=(Advance(target.message_id, event, due),))


def _check_type_and_parties(
    message: AcceptedMessage, message_type: MessageType, target: MessageRecord, where: str
) -> None:
    if message_type.answers and target.message_type not in message_type.answers:
        expected = ", ".join(sorted(message_type.answers))
        raise Rejection(
            ErrorCode.CORRELATION_WRONG_TYPE,
            f"a {message_type.name} answers {expected}, not {target.message_type}",
            [_item(where, f"names a {target.message_type}")],
        )
    if message_type.follows_up:  # the requester follows up its own request
        parties_match = target.sender == message.sender and target.recipient == message.recipient
    else:  # an answer goes back to whoever sent what it answers
        parties_match = target.recipient == message.sender and target.sender == message.recipient
    if not parties_match:
        raise Rejection(
            ErrorCode.CORRELATION_WRONG_PARTY,
            "the message it refers to is not between the same two parties in that direction",
            [_item(where, "not a message this sender may answer or follow up")],
        )


def _check_transition(status: Status, event: Event, where: str) -> None:
    try:
        advance(status, event)
    except IllegalTransition as illegal:
        reason = {ErrorCode.REQUEST_CANCELLED: "cancelled", ErrorCode.REQUEST_ALREADY_ANSWERED: "already answered"}
        raise Rejection(illegal.code, str(illegal), [_item(where, reason.get(illegal.code, str(status)))]) from None


async def _check_no_other_closing_answer(
    session: AsyncSession, request_id: str, message: AcceptedMessage, where: str
) -> None:
    """A closing answer committed since the status was read (the unique index is the last word)."""
    rows = await session.execute(
        select(MessageRecord.message_type).where(
            MessageRecord.correlation_id == request_id,
            MessageRecord.message_type.in_(sorted(CLOSING_TYPES)),
            MessageRecord.message_id != message.message_id,  # the same answer sent again is a duplicate, not a second
        )
    )
    earlier = {CATALOGUE[name].answer_event for name in rows.scalars()}
    if Event.CANCELLED in earlier:
        raise Rejection(ErrorCode.REQUEST_CANCELLED, "the request was cancelled", [_item(where, "cancelled")])
    if earlier:
        raise Rejection(
            ErrorCode.REQUEST_ALREADY_ANSWERED, "the request was already answered", [_item(where, "already answered")]
        )


def _event(message: AcceptedMessage, message_type: MessageType) -> Event:
    if message_type is RECEIPT:
        kind = etree.fromstring(message.record.value).findtext(f"{{{RECEIPT.namespace}}}Kind")
        return Event.RECEIVED if kind == "business" else Event.DELIVERED
    if message_type.answer_event is None:
        raise ValueError(f"the catalogue names no step for {message_type.name}")
    return message_type.answer_event


def _item(path: str, reason: str) -> ErrorItem:
    return ErrorItem(path, reason)
