"""A message's lifecycle as data: its statuses, the events that move it, and one pure function.

Transport moves every message forward: accepted → published → delivered (to
the recipient's topic or inbox) → received (the recipient's business receipt).
Answers close it: a response (or a cancellation) closes a request for further
information, a transfer return closes a transfer. `reminded` (the requester's
reminder), `reminder-due` (Silta's reminder that a deadline is near) and
`overdue` are flags in the history beside the status. News of transport that arrives
after a later step (a technical receipt after the answer) changes nothing; an
event that the message's status does not allow is refused with a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from broker.domain.errors import ErrorCode


class Status(StrEnum):
    """Where a message is."""

    ACCEPTED = "accepted"
    PUBLISHED = "published"
    DELIVERED = "delivered"
    RECEIVED = "received"
    ANSWERED = "answered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class Event(StrEnum):
    """What can happen to a message; each is a step in its history."""

    ACCEPTED = "accepted"
    PUBLISHED = "published"
    DELIVERED = "delivered"
    RECEIVED = "received"
    ANSWERED = "answered"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    REMINDED = "reminded"
    OVERDUE = "overdue"
    REMINDER_DUE = "reminder-due"
    """Silta reminded the party that must answer that the deadline is near (see `broker.domain.deadlines`)."""


TRANSPORT = (Status.ACCEPTED, Status.PUBLISHED, Status.DELIVERED, Status.RECEIVED)
"""The open statuses, in the order transport reaches them."""
CLOSED = frozenset({Status.ANSWERED, Status.RETURNED, Status.CANCELLED})
_CLOSING = {Event.ANSWERED: Status.ANSWERED, Event.RETURNED: Status.RETURNED, Event.CANCELLED: Status.CANCELLED}
_FLAGS = frozenset({Event.REMINDED, Event.OVERDUE, Event.REMINDER_DUE})


@dataclass(frozen=True)
class IllegalTransition(Exception):  # noqa: N818  an outcome the caller turns into a rejection
    """The event is not allowed in the message's status."""

    status: Status
    event: Event
    code: ErrorCode

    def __str__(self) -> str:
        return f"a {self.status} message cannot be {self.event}"


def advance(status: Status, event: Event) -> Status:
    """The status after `event`, or `IllegalTransition` naming why the event is refused."""
    if event in _CLOSING or event is Event.REMINDED:
        _refuse_if_closed(status, event)
    if event in _CLOSING:
        return _CLOSING[event]
    if event in _FLAGS or status in CLOSED:
        return status
    target = Status(event.value)
    return target if TRANSPORT.index(target) > TRANSPORT.index(status) else status


def _refuse_if_closed(status: Status, event: Event) -> None:
    if status is Status.CANCELLED:
        raise IllegalTransition(status, event, ErrorCode.REQUEST_CANCELLED)
    if status is Status.ANSWERED:
        raise IllegalTransition(status, event, ErrorCode.REQUEST_ALREADY_ANSWERED)
    if status in CLOSED:
        raise IllegalTransition(status, event, ErrorCode.TRANSITION_ILLEGAL)


def moves(event: Event) -> dict[Status, Status]:
    """Every status that `event` changes, and what it changes it to (for set-wise updates in the store)."""
    changed: dict[Status, Status] = {}
    for status in Status:
        try:
            after = advance(status, event)
        except IllegalTransition:
            continue
        if after is not status:
            changed[status] = after
    return changed


def is_open(status: Status) -> bool:
    """Whether the message still waits for transport or an answer."""
    return status not in CLOSED
