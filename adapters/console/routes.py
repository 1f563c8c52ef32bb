"""The console's pages: sign-in and sign-out, the overview per party (live by htmx), dead letters, tracking."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from adapters.access import roles_of
from adapters.console.guard import SECURITY_HEADERS, ConsoleAccessChecked, session_of, signer_of
from adapters.console.search_form import SEARCH_FIELDS, console_search
from adapters.console.session import COOKIE, LIFETIME, SIGN_IN_COOKIE, SIGN_IN_LIFETIME
from broker.crypto.tokens import Caller
from broker.domain.catalogue import CATALOGUE
from broker.domain.clients import Role
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.lifecycle import Status
from broker.services.console_sessions import end_session
from broker.services.console_views import LagRow, Overview, lag_rows, overview
from broker.services.tracking import message_view
from broker.services.tracking_search import SearchPage
from broker.services.tracking_search import search as tracking_search

_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")
static = StaticFiles(directory=_HERE / "static")
router = APIRouter(prefix="/console", route_class=ConsoleAccessChecked, include_in_schema=False)
entry = APIRouter(prefix="/console", include_in_schema=False)
"""The two routes that need no session: the sign-in form and its POST."""


def _page(request: Request, name: str, **context: object) -> HTMLResponse:
    session = getattr(request.state, "console_session", None)
    csrf = signer_of(request).csrf_token(session) if session else ""
    response = templates.TemplateResponse(request, name, {"session": session, "csrf": csrf, **context})
    response.headers.update(SECURITY_HEADERS)
    return response


@entry.get("/sign-in")
async def sign_in_form(request: Request) -> HTMLResponse:
    """The sign-in form: paste an operator token. Sets the pre-session cookie the form's token is bound to."""
    nonce = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    response = _page(request, "sign_in.html", error=None, sign_in_token=signer_of(request).sign_in_token(nonce))
    _set_cookie(request, response, SIGN_IN_COOKIE, nonce, SIGN_IN_LIFETIME)
    return response


@entry.post("/sign-in")
async def sign_in(
    request: Request, token: Annotated[str, Form()], sign_in_token: Annotated[str, Form()] = ""
) -> Response:
    """Exchange a bearer token (verified as the REST API does) for a session cookie; console roles only.

    The form's token must match the pre-session cookie (`csrf-token-invalid`), so that no other site can
    sign a browser in under an account of the attacker's choosing.
    """
    signer = signer_of(request)
    if not signer.sign_in_ok(request.cookies.get(SIGN_IN_COOKIE), sign_in_token):
        raise Rejection(ErrorCode.CSRF_TOKEN_INVALID, "open the sign-in form again and sign in from it")
    caller = await request.app.state.services.caller(f"Bearer {token}")
    if caller.role not in roles_of("GET", "/console"):
        raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, "the console is for operators and data protection only")
    _, cookie = signer.issue(caller.client_id, caller.role, caller.party, request.app.state.clock.now())
    response = RedirectResponse("/console", status_code=303)
    _set_cookie(request, response, COOKIE, cookie, LIFETIME)
    response.delete_cookie(SIGN_IN_COOKIE, path="/console", httponly=True, samesite="strict")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, lifetime: dt.timedelta) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session for good (every instance refuses its cookie from now on) and delete the cookie."""
    session = session_of(request)
    async with request.app.state.services.units() as uow:
        await end_session(uow, session.session_id, session.expires_at)
        await uow.commit()
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
    return response


async def _numbers(request: Request) -> tuple[Overview, list[LagRow]]:
    runtime = request.app.state.runtime
    return await overview(runtime.sessions), lag_rows(runtime.inbound.lag(), runtime.inbound.lag_seconds())


@router.get("")
async def overview_page(request: Request) -> HTMLResponse:
    """The overview page; its panel refreshes itself every five seconds."""
    numbers, lag = await _numbers(request)
    return _page(request, "overview.html", rows=numbers.parties, parked=numbers.parked, lag=lag)


@router.get("/overview-panel")
async def overview_panel(request: Request) -> HTMLResponse:
    """The overview's numbers alone, for htmx to swap in."""
    numbers, lag = await _numbers(request)
    return _page(request, "overview_panel.html", rows=numbers.parties, parked=numbers.parked, lag=lag)


@router.get("/tracking")
async def tracking_page(request: Request, message_id: str = "", search: str = "") -> HTMLResponse:
    """A message's timeline by its id, or a search (case, party, type, time range) listing timelines to open.

    Nothing here changes state (GET only); no personal data is asked for or shown.
    """
    caller = _operator(request)
    form = {name: request.query_params.get(name, "") for name in SEARCH_FIELDS}
    view, page, error = None, None, None
    async with request.app.state.services.units() as uow:
        if message_id:
            view = await message_view(uow, caller, message_id)
        if search:
            try:
                page = await tracking_search(uow, caller, *console_search(form))
            except Rejection as rejection:
                error = rejection.detail
    return _page(
        request,
        "tracking.html",
        view=view,
        message_id=message_id,
        form=form,
        page=page,
        error=error,
        next_url=_next_url(form, page),
        message_types=sorted(CATALOGUE),
        statuses=[str(status) for status in Status],
    )


def _operator(request: Request) -> Caller:
    session = session_of(request)
    return Caller(session.client_id, session.party, Role.OPERATOR)  # the console reads as Silta's operators


def _next_url(form: dict[str, str], page: SearchPage | None) -> str | None:
    if page is None or page.next_cursor is None:
        return None
    query = {name: value for name, value in form.items() if value and name != "cursor"}
    return "/console/tracking?" + urlencode({**query, "search": "1", "cursor": page.next_cursor})
