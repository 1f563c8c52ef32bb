"""Who may open a console page: the session cookie instead of a bearer token, the same role table.

`ConsoleAccessChecked` is the console's sibling of `adapters.access.AccessChecked`:
it reads the session cookie (`console-session-missing`, 401, if there is none
that is good and not signed out), admits the session's role only if `ROUTE_ROLES` lists it, checks
the CSRF token of every POST (`csrf-token-invalid`, 403) and sets the headers
that keep the pages out of frames and inline scripts out of them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from adapters.access import roles_of
from adapters.console.session import COOKIE, ConsoleSession, SessionSigner
from broker.domain.errors import ErrorCode, Rejection
from broker.services.console_sessions import session_ended

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def signer_of(request: Request) -> SessionSigner:
    """The app's session signer (made at start-up from the configured secret)."""
    signer: SessionSigner = request.app.state.console_signer
    return signer


async def _signed_in(request: Request) -> ConsoleSession | None:
    """The session of the request's cookie, unless it is missing, bad, expired or signed out."""
    session = signer_of(request).read(request.cookies.get(COOKIE), request.app.state.clock.now())
    if session is None:
        return None
    async with request.app.state.services.units() as uow:
        return None if await session_ended(uow, session.session_id) else session


def session_of(request: Request) -> ConsoleSession:
    """The session the guard admitted."""
    session: ConsoleSession = request.state.console_session
    return session


async def _csrf_token_sent(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header is not None:
        return header
    value = (await request.form()).get("csrf_token")
    return value if isinstance(value, str) else None


class ConsoleAccessChecked(APIRoute):
    """A console route: a good session of an admitted role, and a CSRF token on every POST."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler behind the session, role and CSRF checks."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            signer = signer_of(request)
            session = await _signed_in(request)
            if session is None:
                raise Rejection(ErrorCode.CONSOLE_SESSION_MISSING, "sign in to the console first")
            if session.role not in roles_of(request.method, self.path_format):
                raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, "this console page is not for your role")
            if request.method == "POST" and not signer.csrf_ok(session, await _csrf_token_sent(request)):
                raise Rejection(ErrorCode.CSRF_TOKEN_INVALID, "the form's CSRF token is missing or wrong")
            request.state.console_session = session
            response = await handler(request)
            response.headers.update(SECURITY_HEADERS)
            return response

        return checked
