"""Kela's REST API: send messages, follow their status and search them.

The adapter translates HTTP into calls of the core: it authenticates, checks
the media type and size, and hands the body to the pipeline. It holds no
business rules.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.access import AccessChecked
from adapters.http import Authenticated, Services, Unit, XRoad, media_type_of, problem_responses, read_body
from adapters.parameters import MessageId
from adapters.request_id import request_id_in
from adapters.tracking import MessagePage, MessageStatus, Search, page_out, status_out
from broker.domain.errors import ErrorCode, Rejection
from broker.metrics import ACCEPT_SECONDS
from broker.services.tracking import message_view
from broker.services.tracking_search import search

router = APIRouter(prefix="/kela/v1", tags=["kela"], route_class=AccessChecked)
XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})


class Accepted(BaseModel):
    """The answer to an accepted message."""

    message_id: str
    status_url: str


def _require_xml(request: Request) -> None:
    media_type = media_type_of(request)
    if media_type not in XML_MEDIA_TYPES:
        raise Rejection(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"send the message as application/xml, not {media_type or 'no content type'}",
        )


def _status_url(services: Services, message_id: str) -> str:
    return f"{services.settings.public_base_url}/kela/v1/messages/{message_id}"


@router.post(
    "/messages",
    status_code=202,
    response_model=Accepted,
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    openapi_extra={"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}},
)
async def post_message(request: Request, services: Services, caller: Authenticated, via: XRoad) -> JSONResponse:
    """Accept one XML message: validated, routed, filtered and stored before the 202 (a repeat gets the same)."""
    started = time.perf_counter()
    _require_xml(request)
    body = await read_body(request, services.settings.max_message_bytes)
    accepted = await services.intake.accept(body, caller, request_id_in(request), via.client)
    ACCEPT_SECONDS.observe(time.perf_counter() - started)
    answer = Accepted(message_id=accepted.message_id, status_url=_status_url(services, accepted.message_id))
    return JSONResponse(answer.model_dump(), status_code=202)


@router.get("/messages", response_model=MessagePage, responses=problem_responses(400, 401, 403, 422))
async def search_messages(query: Search, services: Services, caller: Authenticated, uow: Unit) -> MessagePage:
    """Search the messages Kela sent or receives (operators: every message) by case, party, type, time, status."""
    page = await search(uow, caller, query.filters, query.page)
    return page_out(page, f"{services.settings.public_base_url}/kela/v1/messages")


@router.get("/messages/{message_id}", response_model=MessageStatus, responses=problem_responses(401, 403, 404))
async def message_status(message_id: MessageId, caller: Authenticated, uow: Unit) -> MessageStatus:
    """The status of a message the caller sent or receives."""
    return status_out(await message_view(uow, caller, message_id))
