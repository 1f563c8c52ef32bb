"""What every REST adapter shares: the service layer, the caller and the unit of work as dependencies.

Also the request body within a limit, its media type, and the problem-document responses for OpenAPI.
Every router checks the caller before a body is read or validated
(`adapters.access.AccessChecked`); `Authenticated` then hands the caller to the
route. A route that writes commits its unit of work itself,
as the last step before it answers (the edge owns the transaction); a unit left
uncommitted is rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request

from adapters.request_id import xroad_call_of
from broker.crypto.tokens import Caller
from broker.domain.attachments import ALLOWED_MEDIA_TYPES
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.xroad import XRoadCall
from broker.services.registry import ServiceLayer
from broker.services.unit_of_work import UnitOfWork

PROBLEM_RESPONSE: dict[str, Any] = {
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    "description": "RFC 9457 problem document",
}


async def service_layer(request: Request) -> ServiceLayer:
    """The service layer the app's lifespan built."""
    services: ServiceLayer = request.app.state.services
    return services


Services = Annotated[ServiceLayer, Depends(service_layer)]


async def authenticated(request: Request, services: Services) -> Caller:
    """The caller of the request, by its bearer token; `token-missing`/`token-invalid`/`client-unknown` if none."""
    return await services.caller(request.headers.get("authorization"))


Authenticated = Annotated[Caller, Depends(authenticated)]


async def xroad_call(request: Request) -> XRoadCall:
    """The X-Road headers of the call (all None when it did not come through a security server)."""
    return xroad_call_of(request)


XRoad = Annotated[XRoadCall, Depends(xroad_call)]


async def unit_of_work(services: Services) -> AsyncIterator[UnitOfWork]:
    """A unit of work for the request: the route commits it; otherwise it is rolled back."""
    async with services.units() as uow:
        yield uow


Unit = Annotated[UnitOfWork, Depends(unit_of_work)]


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
