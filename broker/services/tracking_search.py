"""Tracking search: the messages a party sent or receives, by case, other party, type, time and status.

Each party sees only its own messages (sender or recipient); Silta's operators
see every message. A result says where a message is, never what it says: no
body, no personal data. Pages come in (accepted_at, message_id) order and a
cursor continues each (`broker.domain.message_search`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broker.crypto.tokens import Caller
from broker.domain.clients import Role
from broker.domain.message_search import PageRequest, SearchFilters, encode_cursor
from broker.services.tracking import is_overdue
from broker.services.unit_of_work import UnitOfWork
from broker.store.message_search import find_messages, flag_steps


@dataclass(frozen=True)
class MessageSummary:
    """One message a search found, as its sender or recipient may see it (no body, no personal data)."""

    message_id: str
    message_type: str
    sender: str
    recipient: str
    case_id: str
    status: str
    accepted_at: dt.datetime
    due_date: dt.date | None
    overdue: bool


@dataclass(frozen=True)
class SearchPage:
    """A page of results and the cursor of the next page (None: this is the last)."""

    items: tuple[MessageSummary, ...]
    next_cursor: str | None


def visible_party(caller: Caller) -> str | None:
    """Whose messages the caller may see: its own party's, or every message (None) for an operator."""
    return None if caller.role is Role.OPERATOR else caller.party


async def search(uow: UnitOfWork, caller: Caller, filters: SearchFilters, page: PageRequest) -> SearchPage:
    """The caller's messages that pass the filters, one page after the page's position, oldest first."""
    filters.check()
    found = await find_messages(uow.session, visible_party(caller), filters, page, extra=1)
    more = len(found) > page.limit
    found = found[: page.limit]
    flags = await flag_steps(uow.session, [m.message_id for m in found])
    items = tuple(
        MessageSummary(
            message_id=m.message_id,
            message_type=m.message_type,
            sender=m.sender,
            recipient=m.recipient,
            case_id=m.case_id,
            status=m.status,
            accepted_at=m.accepted_at,
            due_date=m.due_date,
            overdue=is_overdue(flags.get(m.message_id, [])),
        )
        for m in found
    )
    return SearchPage(items, encode_cursor(found[-1].position) if more else None)
