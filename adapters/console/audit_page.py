"""The console's audit page: the log chains' heads, and their verification against the signed checkpoints.

A plain load shows each chain's name and head (one query). Walking the chains
reads every entry they ever had, so it runs only when asked: the page's
"Verify now" button POSTs (with the CSRF token) and the answer is the page
with each chain's verdict and its newest checkpoints. Nothing is stored: every
instance, and every operator, sees a verification made at that moment.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from adapters.console.guard import ConsoleAccessChecked
from adapters.console.routes import _page
from broker.services.audit_view import SHOWN_CHECKPOINTS, chain_head_views, verify_chains

router = APIRouter(prefix="/console", route_class=ConsoleAccessChecked, include_in_schema=False)


@router.get("/audit")
async def audit_page(request: Request) -> HTMLResponse:
    """Each chain's name and head sequence number, and the button that verifies them."""
    async with request.app.state.services.units() as uow:
        chains = await chain_head_views(uow)
    return _page(request, "audit.html", chains=chains, verified=False, shown=SHOWN_CHECKPOINTS)


@router.post("/audit/verify")
async def verify_audit(request: Request) -> HTMLResponse:
    """Walk every chain now and show whether it verifies, where it broke, and its checkpoints' signatures."""
    settings = request.app.state.settings
    async with request.app.state.services.units() as uow:
        chains = await verify_chains(uow, settings.audit_checkpoint_file, settings.key_dir)
    return _page(request, "audit.html", chains=chains, verified=True, shown=SHOWN_CHECKPOINTS)
