"""The console's pages: sign-in and sign-out, the overview per party (live by htmx), dead letters, tracking."""

from __future__ import annotations

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
from adapters.console.session import COOKIE, LIFETIME, mask_identity_codes
from broker.crypto.tokens import Caller
from broker.domain.catalogue import CATALOGUE
from broker.domain.clients import Role
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.lifecycle import Status
from broker.services.console_views import Overview, overview, parked_records
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
    """The sign-in form: paste an operator token."""
    return _page(request, "sign_in.html", error=None)


@entry.post("/sign-in")
async def sign_in(request: Request, token: Annotated[str, Form()]) -> Response:
    """Exchange a bearer token (verified as the REST API does) for a session cookie; console roles only."""
    caller = await request.app.state.services.caller(f"Bearer {token}")
    if caller.role not in roles_of("GET", "/console"):
        raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, "the console is for operators and data protection only")
    _, cookie = signer_of(request).issue(caller.client_id, caller.role, caller.party, request.app.state.clock.now())
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(LIFETIME.total_seconds()),
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    """Delete the session cookie and go back to the sign-in form."""
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
    return response


async def _numbers(request: Request) -> tuple[Overview, dict[tuple[str, int], int]]:
    runtime = request.app.state.runtime
    return await overview(runtime.sessions), dict(runtime.inbound.lag())


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


@router.get("/parked")
async def parked_page(request: Request) -> HTMLResponse:
    """Parked records with reason, place on the bus, first error (identity codes masked) and attempts."""
    records = await parked_records(request.app.state.runtime.sessions)
    role = session_of(request).role
    return _page(request, "parked.html", rows=[(r, mask_identity_codes(r.error_detail, role)) for r in records])


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
