"""The console's dead-letter page: parked records and REST rejections; replay, replay many, discard.

Replay one, the selected or all matching the filter, and discard with a reason.

Every action is a POST form carrying the session's CSRF token (checked by
`ConsoleAccessChecked`) and answers with a redirect back to the list, whose
notice says what the action came to (ids and outcomes only). Replays run
through `ReplayBatch`, one unit of work per record; a discard runs in one.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.console.guard import SECURITY_HEADERS, ConsoleAccessChecked, session_of, signer_of
from adapters.console.routes import templates
from adapters.masking import mask_identity_codes
from broker.domain.dead_letters import (
    PARTY_PATTERN,
    REASON_PATTERN,
    TOPIC_PATTERN,
    DeadLetterFilter,
    ParkedState,
    ReplayCounts,
)
from broker.services.registry import ServiceLayer

router = APIRouter(prefix="/console", route_class=ConsoleAccessChecked, include_in_schema=False)
RecordId = Annotated[int, Path(ge=1, le=2**62)]
Text = Annotated[str, Form(max_length=64)]
Reason = Annotated[str, Form(max_length=1000)]


def _page(request: Request, **context: object) -> HTMLResponse:
    session = session_of(request)
    csrf = signer_of(request).csrf_token(session)
    response = templates.TemplateResponse(request, "parked.html", {"session": session, "csrf": csrf, **context})
    response.headers.update(SECURITY_HEADERS)
    return response


def _services(request: Request) -> ServiceLayer:
    services: ServiceLayer = request.app.state.services
    return services


def _filter(reason: str, topic: str, sender: str, state: str = "unresolved", after: int = 0) -> DeadLetterFilter:
    """The page's filter; a field that cannot be a code, topic or party is left out rather than queried."""
    chosen = ParkedState(state) if state in set(ParkedState) else ParkedState.UNRESOLVED
    return DeadLetterFilter(
        _plain(reason, REASON_PATTERN),
        _plain(topic, TOPIC_PATTERN),
        _plain(sender, PARTY_PATTERN),
        state=chosen,
        after=min(max(after, 0), 2**62),
        limit=100,
    )


def _plain(value: str, pattern: str) -> str | None:
    return value if re.fullmatch(pattern, value) else None


def _back(notice: str) -> Response:
    return RedirectResponse("/console/parked?" + urlencode({"notice": notice}), status_code=303)


def _counted(counts: ReplayCounts) -> str:
    return (
        f"replayed: {counts.delivered} delivered, {counts.duplicate} duplicates,"
        f" {counts.parked_again} parked again, {counts.skipped} skipped"
    )


@router.get("/parked")
async def parked_page(  # noqa: PLR0917  one parameter per query field
    request: Request,
    reason: str = "",
    topic: str = "",
    sender: str = "",
    state: str = "unresolved",
    after: int = 0,
    notice: str = "",
) -> HTMLResponse:
    """Parked records and REST rejections with reason, place or caller, first error (masked) and attempts."""
    wanted = _filter(reason, topic, sender, state, after)
    services, role = _services(request), session_of(request).role
    async with services.units() as uow:
        records = await services.dead_letters.listing(uow, wanted)
        rejections = await services.dead_letters.rejections(uow, _filter(reason, "", sender))
    rows = [(r, mask_identity_codes(r.error_detail, role)) for r in records]
    form = {"reason": reason, "topic": topic, "sender": sender, "state": wanted.state}
    return _page(request, rows=rows, rejections=rejections, form=form, notice=notice[:200])


@router.post("/parked/{record_id}/replay")
async def replay_one(request: Request, record_id: RecordId) -> Response:
    """Replay one record."""
    result = await _services(request).replays.replay_one(record_id)
    return _back(f"record {record_id}: {result.outcome}")


@router.post("/parked/replay-selected")
async def replay_selected(request: Request, record_id: Annotated[list[int] | None, Form()] = None) -> Response:
    """Replay the records ticked on the list, one at a time (none ticked: nothing to do)."""
    if not record_id:
        return _back("no record selected")
    counts = await _services(request).replays.replay_each(record_id[:500])
    return _back(_counted(counts))


@router.post("/parked/replay-matching")
async def replay_matching(request: Request, reason: Text = "", topic: Text = "", sender: Text = "") -> Response:
    """Replay every unresolved record the list's filter matches."""
    counts = await _services(request).replays.replay_matching(_filter(reason, topic, sender))
    return _back(_counted(counts))


@router.post("/parked/{record_id}/discard")
async def discard(
    request: Request, record_id: RecordId, reason: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    """Discard one record with a reason (required; written to the usage log with who discarded it)."""
    session, services = session_of(request), _services(request)
    async with services.units() as uow:
        await services.dead_letters.discard(uow, record_id, session.client_id, session.party, reason)
        await uow.commit()
    return _back(f"record {record_id}: discarded")
