"""Attachments over REST: upload once (claim check), fetch as a party of a message that references it.

`POST /kela/v1/attachments` (Kela) and `POST /attachments` (any authenticated
party, e.g. an organiser's case system) take the raw content with its media
type; the answer's `attachment_id` (the SHA-256) goes into the message's
manifest. `GET /attachments/{id}` returns the content to the uploader and to
the sender and recipients of a message that references it; to anyone else it
does not exist. Each fetch is written to the usage log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.http import ATTACHMENT_BODY, ATTACHMENT_CONTENT, media_type_of, problem_responses, read_body, services_of
from adapters.parameters import AttachmentId
from broker.domain.errors import ErrorCode, Rejection
from broker.services.attachments import check_upload, fetchable, store_attachment
from broker.store.audit_log import append_entries
from broker.store.tables import MessageAttachment, MessageRecord

router = APIRouter(tags=["attachments"])
_FETCH_PURPOSE = "read an attachment of a message the party sent or received"


class StoredAttachment(BaseModel):
    """An attachment Silta holds: reference it by `attachment_id` in a message's manifest."""

    attachment_id: str
    sha256: str
    media_type: str
    size: int
    href: str


async def _upload(request: Request) -> JSONResponse:
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    media_type = media_type_of(request)
    content = await read_body(request, services.settings.max_attachment_bytes)
    check_upload(content, media_type, services.settings.max_attachment_bytes)
    async with services.sessions() as session, session.begin():
        stored = await store_attachment(session, content, media_type, caller.party)
        answer = StoredAttachment(
            attachment_id=stored.attachment_id,
            sha256=stored.attachment_id,
            media_type=stored.media_type,
            size=stored.size,
            href=f"{services.settings.public_base_url}/attachments/{stored.attachment_id}",
        )
    return JSONResponse(answer.model_dump(), status_code=201)


_UPLOAD: dict[str, Any] = {
    "status_code": 201,
    "response_model": StoredAttachment,
    "responses": problem_responses(401, 413, 415, 422),
    "openapi_extra": ATTACHMENT_BODY,
}


@router.post("/kela/v1/attachments", **_UPLOAD)
async def upload_for_kela(request: Request) -> JSONResponse:
    """Kela uploads an attachment; the body is the content, `Content-Type` its media type."""
    return await _upload(request)


@router.post("/attachments", **_UPLOAD)
async def upload(request: Request) -> JSONResponse:
    """Any authenticated party (e.g. an organiser's case system) uploads an attachment."""
    return await _upload(request)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: ATTACHMENT_CONTENT, **problem_responses(401, 404)},
)
async def fetch(attachment_id: AttachmentId, request: Request) -> Response:
    """The attachment's content, for its uploader and the parties of a message that references it."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    async with services.sessions() as session, session.begin():
        attachment = await fetchable(session, attachment_id, caller.party)
        if attachment is None or attachment.content is None:
            raise Rejection(ErrorCode.ATTACHMENT_NOT_FOUND, f"no attachment {attachment_id[:64]} that you may fetch")
        subject = await _data_subject(session, attachment_id, caller.party)
        usage = {"user": caller.client_id, "party": caller.party, "purpose": _FETCH_PURPOSE, "data": ["attachment"]}
        await append_entries(session, "usage", [(subject, {**usage, "attachment_id": attachment_id})], _now())
    headers = {"Content-Disposition": f'attachment; filename="{attachment_id}"', "X-Content-Type-Options": "nosniff"}
    return Response(attachment.content, media_type=attachment.media_type, headers=headers)


async def _data_subject(session: AsyncSession, attachment_id: str, party: str) -> str | None:
    """Whose data the attachment is: the data subject of a message of this party's that references it."""
    rows = await session.execute(
        select(MessageRecord.disclosure)
        .join(MessageAttachment, MessageAttachment.message_id == MessageRecord.message_id)
        .where(MessageAttachment.attachment_id == attachment_id)
        .where((MessageRecord.sender == party) | (MessageRecord.recipient == party))
        .limit(1)
    )
    facts = rows.scalar()
    return facts.get("data_subject") if isinstance(facts, dict) else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
