"""A request id on every request, and the X-Road headers of a call that came through a security server.

The request id is the call's `X-Road-Id` when a security server sent one, else
the caller's `X-Request-Id` if it is a plain token, else a new one. It is
echoed in the response's `X-Request-Id` (and an `X-Road-Id` in the response's
`X-Road-Id`) and bound in structlog's context variables for the request's
duration, with the calling X-Road member, so every log line written while the
request is handled (uvicorn's access line included) carries them. The parsed
headers wait in the request's state (`xroad_call_of`) for the usage log. An
X-Road header out of form is answered 400 `x-road-header-invalid` before any
route runs, and its value goes nowhere.
"""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.problems import PROBLEM_MEDIA_TYPE, problem_document
from broker.domain.errors import Rejection
from broker.domain.xroad import ID_HEADER, XRoadCall, xroad_call
from broker.metrics import MESSAGES_REJECTED

HEADER = "X-Request-Id"
_PLAIN = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_HEADER_KEY = HEADER.lower().encode()
_STATE_KEY = "xroad_call"
_ID_STATE_KEY = "request_id"


def request_id_of(scope: Scope) -> str:
    """The caller's request id when it is a plain token of at most 128 characters, else a fresh UUID."""
    for name, value in scope.get("headers", []):
        if name == _HEADER_KEY:
            text = bytes(value).decode("latin-1")
            if _PLAIN.fullmatch(text):
                return text
    return str(uuid.uuid4())


def xroad_call_of(request: Request) -> XRoadCall:
    """The X-Road headers the middleware read for this request (all None for a call not through X-Road)."""
    call: XRoadCall = request.scope.get("state", {}).get(_STATE_KEY, XRoadCall())
    return call


def request_id_in(request: Request) -> str | None:
    """The request id the middleware gave this request (None outside it, as in a bare router test)."""
    found = request.scope.get("state", {}).get(_ID_STATE_KEY)
    return found if isinstance(found, str) else None


class RequestIdMiddleware:
    """Pure ASGI middleware (no buffering of bodies or streams) that binds and echoes the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request with its request id bound; other scopes (lifespan) pass through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        try:
            call = xroad_call(Headers(scope=scope).get)
        except Rejection as refused:
            await _refuse(refused, request_id_of(scope), scope, receive, send)
            return
        request_id = call.call_id or request_id_of(scope)
        scope.setdefault("state", {}).update({_STATE_KEY: call, _ID_STATE_KEY: request_id})

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[HEADER] = request_id
                if call.call_id is not None:
                    headers[ID_HEADER] = call.call_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id, **_log_fields(call)):
            await self._app(scope, receive, send_with_id)


def _log_fields(call: XRoadCall) -> dict[str, str]:
    return {} if call.client is None else {"xroad_client": call.client}


async def _refuse(refused: Rejection, request_id: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a bad X-Road header with its problem document, logged by code only."""
    MESSAGES_REJECTED.labels(code=str(refused.code)).inc()
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        structlog.get_logger(__name__).info("request_rejected", code=str(refused.code), path=scope.get("path"))
    answer = JSONResponse(
        problem_document(refused), refused.status, headers={HEADER: request_id}, media_type=PROBLEM_MEDIA_TYPE
    )
    await answer(scope, receive, send)
