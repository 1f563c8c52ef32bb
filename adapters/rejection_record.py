"""REST rejections kept for the operators: who was refused on which route and why, and a hash of what they sent.

`BodyDigestMiddleware` counts and hashes the body of a party route's request
as the route reads it (pure ASGI: nothing is buffered, nothing stored), and
`AccessChecked` notes the caller once its token is good. When a problem
document answers the request, `keep_rejection` writes the facts in a short
unit of work of its own (the request's own transaction rolled back): the
route template and never the URL, the code and status, the body's size and
SHA-256 and never the body, and no detail text (which might carry an
identity code). A failure to keep it never changes the answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.crypto.tokens import Caller
from broker.domain.dead_letters import RestRejectionFacts

if TYPE_CHECKING:
    from broker.services.registry import ServiceLayer

log = structlog.get_logger(__name__)
_FACTS = "silta.request_facts"
PARTY_PREFIXES = ("/kela/", "/guardian/", "/attachments")
"""The routes parties call: their rejections are kept."""


@dataclass
class RequestFacts:
    """What a party route's request sent, as far as it was read, and who sent it."""

    request_id: str | None
    declared_size: int
    size: int = 0
    read: bool = False
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    caller: Caller | None = None


def _declared_size(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length" and bytes(value).isdigit():
            return int(value)
    return 0


class BodyDigestMiddleware:
    """Counts and hashes a party route's request body as it streams in; other requests pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request, its body seen on the way to the route."""
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PARTY_PREFIXES):
            await self._app(scope, receive, send)
            return
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        facts = RequestFacts(str(request_id) if request_id else None, _declared_size(scope))
        scope[_FACTS] = facts

        async def counting() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body = bytes(message.get("body", b""))
                facts.size += len(body)
                facts.digest.update(body)
                facts.read = True
            return message

        await self._app(scope, counting, send)


def note_caller(scope: Scope, caller: Caller) -> None:
    """Remember the authenticated caller of a party route's request, for its rejection if there is one."""
    facts = scope.get(_FACTS)
    if isinstance(facts, RequestFacts):
        facts.caller = caller


def rejection_facts(request: Request, code: str, status: int) -> RestRejectionFacts | None:
    """What is kept of a party route's rejection; None for a request of any other route."""
    facts = request.scope.get(_FACTS)
    if not isinstance(facts, RequestFacts):
        return None
    route = getattr(request.scope.get("route"), "path_format", None)
    caller = facts.caller
    return RestRejectionFacts(
        client_id=caller.client_id if caller else None,
        caller_party=caller.party if caller else None,
        method=request.method[:8],
        route=str(route) if route else "(no route)",
        error_code=code[:64],
        status=status,
        body_size=facts.size if facts.read else facts.declared_size,
        body_sha256=facts.digest.hexdigest() if facts.read else None,
        request_id=facts.request_id,
    )


async def keep_rejection(request: Request, code: str, status: int) -> None:
    """Keep a party route's rejection in a unit of its own; logged and let go if it cannot be written."""
    facts = rejection_facts(request, code, status)
    services: ServiceLayer | None = getattr(request.app.state, "services", None)
    if facts is None or services is None:
        return
    try:
        async with services.units() as uow:
            await services.dead_letters.keep_rest_rejection(uow, facts)
            await uow.commit()
    except Exception as error:  # noqa: BLE001  the caller's answer stands whether or not it is kept
        log.warning("rest_rejection_not_kept", code=code, error=type(error).__name__)
