"""Where a message is: its status, history and due date, for a party that sent or receives it, or an operator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broker.crypto.tokens import Caller
from broker.domain.clients import Role
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.lifecycle import Event
from broker.services.unit_of_work import UnitOfWork
from broker.store.messages import get_message
from broker.store.tracking import StatusStep, history


@dataclass(frozen=True)
class MessageView:
    """A message's way so far, as its sender or recipient may see it (no body, no personal data)."""

    message_id: str
    message_type: str
    schema_version: str
    sender: str
    recipient: str
    case_id: str
    status: str
    accepted_at: dt.datetime
    published_at: dt.datetime | None
    removed_fields: dict[str, int]
    correlation_id: str | None
    due_date: dt.date | None
    overdue: bool
    history: tuple[StatusStep, ...]
    request_id: str | None = None
    """The REST call that brought it (its `X-Road-Id` when it came through a security server)."""
    calling_member: str | None = None
    """The X-Road member subsystem that sent it (`X-Road-Client`)."""


def is_overdue(steps: list[StatusStep]) -> bool:
    """Overdue now: flagged, and not reminded with a new due date since."""
    flags = [step.event for step in steps if step.event in (Event.OVERDUE, Event.REMINDED)]
    return bool(flags) and flags[-1] is Event.OVERDUE


async def message_view(uow: UnitOfWork, caller: Caller, message_id: str) -> MessageView:
    """The status of a message the caller sent or receives; any other message does not exist for it.

    Silta's operators see the status of every message (it holds no content and no personal data).
    """
    message = await get_message(uow.session, message_id)
    if message is None or not (caller.role is Role.OPERATOR or caller.party in (message.sender, message.recipient)):
        raise Rejection(ErrorCode.MESSAGE_NOT_FOUND, f"no message {message_id[:64]} that you may see")
    steps = await history(uow.session, message_id)
    return MessageView(
        message_id=message.message_id,
        message_type=message.message_type,
        schema_version=message.schema_version,
        sender=message.sender,
        recipient=message.recipient,
        case_id=message.case_id,
        status=message.status,
        accepted_at=message.accepted_at,
        published_at=message.published_at,
        removed_fields=dict(message.removed_fields),
        correlation_id=message.correlation_id,
        due_date=message.due_date,
        overdue=is_overdue(steps),
        history=tuple(steps),
        request_id=message.request_id,
        calling_member=message.calling_member,
    )
