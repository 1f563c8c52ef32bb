"""Answers and receipts must refer to a message that exists, was addressed to their sender, and is still open.

A response to an unknown, cancelled or already answered request is rejected
with a code that says which. An accepted answer moves what it answers
forward: a technical receipt marks it delivered, a business receipt received,
a response answered, a transfer return returned.
"""

from __future__ import annotations

import dataclasses

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.accepted import AcceptedMessage
from broker.domain.catalogue import CATALOGUE, RECEIPT, MessageType
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.store.messages import get_message
from broker.store.tables import MessageRecord

_FOLLOW_UPS = frozenset({"information-request-cancellation", "information-request-reminder"})
_CLOSING = frozenset({"information-response", "information-request-cancellation"})
_STEP = {
    "information-response": "answered",
    "transfer-return": "returned",
    "information-request-cancellation": "cancelled",
    "information-request-reminder": "reminded",
}


async def check_answer(session: AsyncSession, message: AcceptedMessage) -> AcceptedMessage:
    """The message with the status steps it causes, or a `Rejection` if what it answers is not open to it."""
    message_type = CATALOGUE[message.message_type]
    if message_type.answers is None or message.correlation_id is None:
        return message
    where = f"/{message_type.root_element}/Envelope/CorrelationId"
    target = await get_message(session, message.correlation_id)
    if target is None:
        raise Rejection(ErrorCode.CORRELATION_UNKNOWN, "the message it answers is unknown", [_item(where, "unknown")])
    if message_type.answers and target.message_type not in message_type.answers:
        expected = ", ".join(sorted(message_type.answers))
        raise Rejection(
            ErrorCode.CORRELATION_WRONG_TYPE,
            f"a {message_type.name} answers {expected}, not {target.message_type}",
            [_item(where, f"names a {target.message_type}")],
        )
    if message_type.name in _FOLLOW_UPS:  # the requester follows up its own request
        parties_match = target.sender == message.sender and target.recipient == message.recipient
    else:  # an answer goes back to whoever sent what it answers
        parties_match = target.recipient == message.sender and target.sender == message.recipient
    if not parties_match:
        raise Rejection(
            ErrorCode.CORRELATION_WRONG_PARTY,
            "the message it refers to is not between the same two parties in that direction",
            [_item(where, "not a message this sender may answer or follow up")],
        )
    if target.message_type == "information-request" and message_type is not RECEIPT:
        await _check_request_open(session, target.message_id, message, where)
    return dataclasses.replace(message, advances=((target.message_id, _step(message, message_type)),))


async def _check_request_open(session: AsyncSession, request_id: str, message: AcceptedMessage, where: str) -> None:
    rows = await session.execute(
        select(MessageRecord.message_type).where(
            MessageRecord.correlation_id == request_id,
            MessageRecord.message_type.in_(sorted(_CLOSING)),
            MessageRecord.message_id != message.message_id,  # the same answer sent again is a duplicate, not a second
        )
    )
    earlier = set(rows.scalars())
    if "information-request-cancellation" in earlier:
        raise Rejection(ErrorCode.REQUEST_CANCELLED, "the request was cancelled", [_item(where, "cancelled")])
    if "information-response" in earlier and message.message_type in _CLOSING:
        raise Rejection(
            ErrorCode.REQUEST_ALREADY_ANSWERED, "the request was already answered", [_item(where, "already answered")]
        )


def _step(message: AcceptedMessage, message_type: MessageType) -> str:
    if message_type is RECEIPT:
        kind = etree.fromstring(message.record.value).findtext(f"{{{RECEIPT.namespace}}}Kind")
        return "received" if kind == "business" else "delivered"
    return _STEP[message_type.name]


def _item(path: str, reason: str) -> ErrorItem:
    return ErrorItem(path, reason)
