"""What every REST adapter shares: the services, the request body within a limit, its media type, problem docs."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request

from broker.domain.attachments import ALLOWED_MEDIA_TYPES
from broker.domain.errors import ErrorCode, Rejection
from broker.services.registry import Services

FINLAND = ZoneInfo("Europe/Helsinki")
PROBLEM_RESPONSE: dict[str, Any] = {
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    "description": "RFC 9457 problem document",
}


def services_of(request: Request) -> Services:
    """The services the app's lifespan built."""
    services: Services = request.app.state.services
    return services


def today_in_finland() -> dt.date:
    """Today's date in Finland: mandates' and requests' dates are Finnish calendar dates, whatever the host's zone."""
    return dt.datetime.now(FINLAND).date()


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` saying that each status answers with an RFC 9457 problem document."""
    return dict.fromkeys(statuses, PROBLEM_RESPONSE)


def raw_request_body(media_types: frozenset[str] | set[str]) -> dict[str, Any]:
    """OpenAPI `openapi_extra` for a route that reads its body itself: required, in one of these media types."""
    binary = {"type": "string", "format": "binary", "minLength": 1}
    return {"requestBody": {"required": True, "content": {m: {"schema": dict(binary)} for m in sorted(media_types)}}}


ATTACHMENT_BODY = raw_request_body(ALLOWED_MEDIA_TYPES)
ATTACHMENT_CONTENT: dict[str, Any] = {
    "description": "The attachment's content, in the media type it was uploaded as",
    "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in sorted(ALLOWED_MEDIA_TYPES)
    },
}


def media_type_of(request: Request) -> str:
    """The request's media type, lower case, without parameters (empty if none was sent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused as soon as it grows past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise Rejection(ErrorCode.BODY_TOO_LARGE, f"the body is over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise Rejection(ErrorCode.BODY_TOO_LARGE, f"the body is over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
