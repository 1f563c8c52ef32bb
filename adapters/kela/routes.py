"""Kela's REST API: send messages and follow their status.

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
from adapters.http import Authenticated, Services, Unit, media_type_of, problem_responses, read_body
from adapters.parameters import MessageId
from broker.domain.errors import ErrorCode, Rejection
from broker.metrics import ACCEPT_SECONDS
from broker.services.tracking import MessageView, message_view

router = APIRouter(prefix="/kela/v1", tags=["kela"], route_class=AccessChecked)
XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})


class Accepted(BaseModel):
    """The answer to an accepted message."""

    message_id: str
    status_url: str


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
async def post_message(request: Request, services: Services, caller: Authenticated) -> JSONResponse:
    """Accept one XML message: validated, routed, filtered and stored before the 202 (a repeat gets the same)."""
    started = time.perf_counter()
    _require_xml(request)
    body = await read_body(request, services.settings.max_message_bytes)
    accepted = await services.intake.accept(body, caller)
    ACCEPT_SECONDS.observe(time.perf_counter() - started)
    answer = Accepted(message_id=accepted.message_id, status_url=_status_url(services, accepted.message_id))
    return JSONResponse(answer.model_dump(), status_code=202)


@router.get("/messages/{message_id}", response_model=MessageStatus, responses=problem_responses(401, 403, 404))
async def message_status(message_id: MessageId, caller: Authenticated, uow: Unit) -> MessageStatus:
    """The status of a message the caller sent or receives."""
    return _status(await message_view(uow, caller, message_id))


def _status(view: MessageView) -> MessageStatus:
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
    )
