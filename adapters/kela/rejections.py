"""Kela's own REST rejections: `GET /kela/v1/rejections` answers "why was my message refused yesterday".

Each item is what Silta kept of a refused request: when, by which client, the
method and route template, the code and status, the request id, and the size
and SHA-256 of the body as far as Silta read it (compare it with what was
sent). Never the body, the URL or a detail text, so never an identity code.
Times must be ISO 8601 with a time zone (400 `time-invalid`, as the message
search); paging is by id: `after` is the `next_after` of the page before.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, WithJsonSchema

from adapters.access import AccessChecked
from adapters.http import Authenticated, Unit, problem_responses
from adapters.tracking import TIME_SCHEMA
from broker.domain.dead_letters import REASON_PATTERN
from broker.domain.message_search import parse_time
from broker.services.dead_letters import RestRejectionView
from broker.services.rejection_tracking import RejectionQuery, own_rejections

router = APIRouter(prefix="/kela/v1", tags=["kela"], route_class=AccessChecked)
MAX_LIMIT = 500
# Each optional parameter is documented as the string it is when given (not as FastAPI's anyOf with null).
CodeFilter = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "pattern": REASON_PATTERN}),
    Query(pattern=REASON_PATTERN, description="The error code of the rejection"),
]
Since = Annotated[str | None, TIME_SCHEMA, Query(description="Refused at or after this time (ISO 8601, zoned)")]
Until = Annotated[str | None, TIME_SCHEMA, Query(description="Refused before this time (ISO 8601, zoned)")]


class RejectionOut(BaseModel):
    """One refused request: who, when, where and why, and the body's size and hash; never the body."""

    id: int
    at: str
    client_id: str | None
    method: str
    route: str
    code: str
    status: int
    body_size: int
    body_sha256: str | None
    request_id: str | None


class RejectionPage(BaseModel):
    """A page of rejections, oldest first, and the `after` of the next page (null: none follows)."""

    items: list[RejectionOut]
    next_after: int | None


def rejection_query(
    code: CodeFilter = None,
    since: Since = None,
    until: Until = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="The `next_after` of the page before")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many rejections")] = 50,
) -> RejectionQuery:
    """The query string as a query of the caller's rejections; times as the message search reads them."""
    return RejectionQuery(code, _time(since, "since"), _time(until, "until"), after, limit)


def _time(text: str | None, name: str) -> dt.datetime | None:
    return None if text is None else parse_time(text, name)


def rejection_out(view: RestRejectionView) -> RejectionOut:
    """The JSON of one kept rejection."""
    return RejectionOut(
        id=view.id,
        at=view.at.isoformat(),
        client_id=view.client_id,
        method=view.method,
        route=view.route,
        code=view.error_code,
        status=view.status,
        body_size=view.body_size,
        body_sha256=view.body_sha256,
        request_id=view.request_id,
    )


@router.get("/rejections", response_model=RejectionPage, responses=problem_responses(400, 401, 403, 422))
async def list_rejections(
    query: Annotated[RejectionQuery, Depends(rejection_query)], caller: Authenticated, uow: Unit
) -> RejectionPage:
    """The requests of Kela's clients that Silta refused (operators: Kela's too), by code and time, oldest first."""
    views = await own_rejections(uow, caller, query)
    last = views[-1].id if len(views) == query.limit else None
    return RejectionPage(items=[rejection_out(view) for view in views], next_after=last)
