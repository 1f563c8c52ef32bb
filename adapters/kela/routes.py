"""Kela's REST API: send messages and follow their status.

The adapter translates HTTP into calls of the core: it authenticates, checks
the media type and size, and hands the body to the pipeline. It holds no
business rules.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from adapters.http import media_type_of, problem_responses, read_body, services_of
from adapters.parameters import MessageId
from broker.crypto.tokens import Caller
from broker.domain.accepted import SaveOutcome
from broker.domain.errors import ErrorCode, Rejection
from broker.metrics import ACCEPT_SECONDS, MESSAGES_ACCEPTED
from broker.services.checks import check_against_store
from broker.services.registry import Services
from broker.store.messages import get_message
from broker.store.tracking import history

router = APIRouter(prefix="/kela/v1", tags=["kela"])
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
async def post_message(request: Request) -> JSONResponse:
    """Accept one XML message: validated, routed, filtered and stored before the 202."""
    started = time.perf_counter()
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    _require_xml(request)
    body = await read_body(request, services.settings.max_message_bytes)
    accepted = services.pipeline.accept(body, caller)
    async with services.sessions() as session:
        accepted = await check_against_store(session, accepted)
    try:
        outcome = await services.committer.save(accepted)
    except IntegrityError:
        # Another answer to the same request was committed since the check: checking again names it.
        async with services.sessions() as session:
            await check_against_store(session, accepted)
        raise
    if outcome is SaveOutcome.CONFLICT:
        raise Rejection(
            ErrorCode.MESSAGE_ID_CONFLICT, f"message id {accepted.message_id} was already used for a different document"
        )
    if outcome is SaveOutcome.STORED:
        MESSAGES_ACCEPTED.labels(message_type=accepted.message_type).inc()
    ACCEPT_SECONDS.observe(time.perf_counter() - started)
    answer = Accepted(message_id=accepted.message_id, status_url=_status_url(services, accepted.message_id))
    return JSONResponse(answer.model_dump(), status_code=202)


@router.get("/messages/{message_id}", response_model=MessageStatus, responses=problem_responses(401, 403, 404))
async def message_status(message_id: MessageId, request: Request) -> dict[str, Any]:
    """The status of a message the caller sent or receives."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    async with services.sessions() as session:
        message = await get_message(session, message_id)
        steps = await history(session, message_id) if message is not None else []
    if message is None or not _may_see(caller, message.sender, message.recipient):
        raise Rejection(ErrorCode.MESSAGE_NOT_FOUND, f"no message {message_id} that you may see")
    return MessageStatus(
        message_id=message.message_id,
        message_type=message.message_type,
        sender=message.sender,
        recipient=message.recipient,
        case_id=message.case_id,
        status=message.status,
        accepted_at=message.accepted_at.isoformat(),
        published_at=message.published_at.isoformat() if message.published_at else None,
        removed_fields=dict(message.removed_fields),
        correlation_id=message.correlation_id,
        due_date=message.due_date.isoformat() if message.due_date else None,
        overdue=any(step.status == "overdue" for step in steps),
        history=[StatusStepOut(status=s.status, at=s.at.isoformat(), by_message_id=s.by_message_id) for s in steps],
    ).model_dump()


def _may_see(caller: Caller, sender: str, recipient: str) -> bool:
    return caller.party in (sender, recipient)
