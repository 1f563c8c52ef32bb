"""A request id on every request: the caller's `X-Request-Id` if it is a plain token, else a new one.

It is echoed in the response's `X-Request-Id` and bound in structlog's context
variables for the request's duration, so every log line written while the
request is handled (uvicorn's access line included) carries it.
"""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
_PLAIN = re.compile(r"[A-Za-z0-9._:/-]{1,128}")
_HEADER_KEY = HEADER.lower().encode()


def request_id_of(scope: Scope) -> str:
    """The caller's request id when it is a plain token of at most 128 characters, else a fresh UUID."""
    for name, value in scope.get("headers", []):
        if name == _HEADER_KEY:
            text = bytes(value).decode("latin-1")
            if _PLAIN.fullmatch(text):
                return text
    return str(uuid.uuid4())


class RequestIdMiddleware:
    """Pure ASGI middleware (no buffering of bodies or streams) that binds and echoes the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request with its request id bound; other scopes (lifespan) pass through."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = request_id_of(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self._app(scope, receive, send_with_id)
