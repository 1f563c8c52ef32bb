"""What Kela's and the organisers' tracking routes share: the search's query parameters and the JSON they answer.

The parameters are checked here as far as a pattern can say (422
`request-invalid`); times must be ISO 8601 with a time zone (400
`time-invalid`), and a cursor one Silta gave out (400 `search-cursor-invalid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, WithJsonSchema

from broker.domain.catalogue import CATALOGUE
from broker.domain.lifecycle import Status
from broker.domain.message_search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PageRequest,
    SearchFilters,
    decode_cursor,
    parse_time,
)
from broker.services.tracking import MessageView
from broker.services.tracking_search import SearchPage

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
PARTY_PATTERN = r"^(kela|silta|hva-(0[1-9]|1[0-9]|2[01]|90)|kunta-[0-9]{3})$"
TIME_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-12-03T10:00:00Z"]})
# Each optional parameter is documented as the string it is when given (not as FastAPI's anyOf with null).
CaseIdFilter = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "pattern": CASE_ID_PATTERN}),
    Query(pattern=CASE_ID_PATTERN, description="The sender's case id"),
]
PartyFilter = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "pattern": PARTY_PATTERN}),
    Query(pattern=PARTY_PATTERN, description="The other party: the sender or the recipient"),
]
MessageTypeFilter = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "enum": sorted(CATALOGUE)}),
    Query(description="A message type of the catalogue"),
]
Since = Annotated[
    str | None, TIME_SCHEMA, Query(description="Accepted at or after this time (ISO 8601 with a time zone)")
]
Until = Annotated[str | None, TIME_SCHEMA, Query(description="Accepted before this time (ISO 8601 with a time zone)")]
StatusFilter = Annotated[
    Status | None,
    WithJsonSchema({"type": "string", "enum": [str(s) for s in Status]}),
    Query(description="The message's status now"),
]
Cursor = Annotated[
    str | None, WithJsonSchema({"type": "string"}), Query(description="The `next_cursor` of the page before")
]


class StatusStepOut(BaseModel):
    """One step of a message's way: what happened, when, and which message caused it."""

    status: str
    at: str
    by_message_id: str | None


class MessageStatus(BaseModel):
    """Where a message is on its way, with times."""

    message_id: str
    message_type: str
    schema_version: str
    sender: str
    recipient: str
    case_id: str
    status: str
    accepted_at: str
    published_at: str | None
    removed_fields: dict[str, int]
    """What the statutory filter removed (paths and counts, never values): fix over-sharing at the source."""
    correlation_id: str | None
    due_date: str | None
    overdue: bool
    history: list[StatusStepOut]
    request_id: str | None = None
    """The REST call that brought the message: its `X-Road-Id` through a security server, else `X-Request-Id`."""
    calling_member: str | None = None
    """The X-Road member subsystem that sent it (`X-Road-Client`); null off X-Road and for Kafka."""


class MessageSummaryOut(BaseModel):
    """One message a search found: what it is and where it is, never what it says."""

    message_id: str
    message_type: str
    sender: str
    recipient: str
    case_id: str
    status: str
    accepted_at: str
    due_date: str | None
    overdue: bool
    href: str


class MessagePage(BaseModel):
    """A page of search results, oldest first, and the cursor of the next page (null: none follows)."""

    items: list[MessageSummaryOut]
    next_cursor: str | None


@dataclass(frozen=True)
class SearchRequest:
    """A search's filters and page, as the query string gave them."""

    filters: SearchFilters
    page: PageRequest


def search_request(
    *,
    case_id: CaseIdFilter = None,
    party: PartyFilter = None,
    message_type: MessageTypeFilter = None,
    since: Since = None,
    until: Until = None,
    status: StatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many results")] = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SearchRequest:
    """The search the query string asks for; times and the cursor as the domain reads them."""
    filters = SearchFilters(
        case_id=case_id,
        party=party,
        message_type=message_type,
        since=None if since is None else parse_time(since, "since"),
        until=None if until is None else parse_time(until, "until"),
        status=status,
    )
    return SearchRequest(filters, PageRequest(limit, None if cursor is None else decode_cursor(cursor)))


Search = Annotated[SearchRequest, Depends(search_request)]


def page_out(page: SearchPage, base_url: str) -> MessagePage:
    """The JSON of a page; each item links to its message's timeline under `base_url`."""
    return MessagePage(
        items=[
            MessageSummaryOut(
                message_id=m.message_id,
                message_type=m.message_type,
                sender=m.sender,
                recipient=m.recipient,
                case_id=m.case_id,
                status=m.status,
                accepted_at=m.accepted_at.isoformat(),
                due_date=m.due_date.isoformat() if m.due_date else None,
                overdue=m.overdue,
                href=f"{base_url}/{m.message_id}",
            )
            for m in page.items
        ],
        next_cursor=page.next_cursor,
    )


def status_out(view: MessageView) -> MessageStatus:
    """The JSON of a message's status and history."""
    return MessageStatus(
        message_id=view.message_id,
        message_type=view.message_type,
        schema_version=view.schema_version,
        sender=view.sender,
        recipient=view.recipient,
        case_id=view.case_id,
        status=view.status,
        accepted_at=view.accepted_at.isoformat(),
        published_at=view.published_at.isoformat() if view.published_at else None,
        removed_fields=view.removed_fields,
        correlation_id=view.correlation_id,
        due_date=view.due_date.isoformat() if view.due_date else None,
        overdue=view.overdue,
        history=[
            StatusStepOut(status=str(s.event), at=s.at.isoformat(), by_message_id=s.by_message_id) for s in view.history
        ],
        request_id=view.request_id,
        calling_member=view.calling_member,
    )
