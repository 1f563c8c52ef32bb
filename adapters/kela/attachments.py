"""Attachments over REST: upload once (claim check), fetch as a party of a message that references it.

`POST /kela/v1/attachments` (Kela) and `POST /attachments` (Kela or an
organiser's case system) take the raw content with its media
type; the answer's `attachment_id` (the SHA-256) goes into the message's
manifest. `GET /attachments/{id}` returns the content to the uploader and to
the sender and recipients of a message that references it; to anyone else it
does not exist. Each fetch is written to the usage log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.access import AccessChecked
from adapters.http import (
    ATTACHMENT_BODY,
    ATTACHMENT_CONTENT,
    Authenticated,
    Services,
    Unit,
    XRoad,
    media_type_of,
    problem_responses,
    read_body,
)
from adapters.parameters import AttachmentId

router = APIRouter(tags=["attachments"], route_class=AccessChecked)


class StoredAttachment(BaseModel):
    """An attachment Silta holds: reference it by `attachment_id` in a message's manifest."""

    attachment_id: str
    sha256: str
    media_type: str
    size: int
    href: str


async def _upload(request: Request, services: Services, caller: Authenticated, uow: Unit) -> JSONResponse:
    media_type = media_type_of(request)
    content = await read_body(request, services.settings.max_attachment_bytes)
    stored = await services.attachments.upload(uow, caller, content, media_type)
    await uow.commit()
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
async def upload_for_kela(request: Request, services: Services, caller: Authenticated, uow: Unit) -> JSONResponse:
    """Kela uploads an attachment; the body is the content, `Content-Type` its media type."""
    return await _upload(request, services, caller, uow)


@router.post("/attachments", **_UPLOAD)
async def upload(request: Request, services: Services, caller: Authenticated, uow: Unit) -> JSONResponse:
    """Kela or an organiser's case system uploads an attachment; the body is the content."""
    return await _upload(request, services, caller, uow)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={200: ATTACHMENT_CONTENT, **problem_responses(401, 404)},
)
async def fetch(
    attachment_id: AttachmentId, services: Services, caller: Authenticated, uow: Unit, via: XRoad
) -> Response:
    """The attachment's content, for its uploader and the parties of a message that references it (usage-logged)."""
    attachment = await services.attachments.fetch(uow, caller, attachment_id, via)
    await uow.commit()
    headers = {"Content-Disposition": f'attachment; filename="{attachment_id}"', "X-Content-Type-Options": "nosniff"}
    return Response(attachment.content, media_type=attachment.media_type, headers=headers)
