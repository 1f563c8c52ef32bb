"""The console's audit page: chain heads on load, verification against the signed checkpoints on demand."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import update

from broker.settings import Settings
from broker.store.tables import AuditEntry
from entrypoints.audit_anchor import checkpoint_writer
from entrypoints.bootstrap import Runtime
from tests.integration.audit_helpers import log_entries
from tests.support.console import signed_in

pytestmark = pytest.mark.integration


def _verdicts(page: str) -> dict[str, tuple[int, str]]:
    """Each chain's head seq and verification, as the page shows them."""
    rows = re.findall(
        r'data-chain="([^"]+)"><td>[^<]+</td><td class="head">(\d+)</td><td class="verdict">([^<]*)<', page
    )
    return {chain: (int(head), verdict) for chain, head, verdict in rows}


async def test_the_audit_page_shows_heads_and_verifies_on_demand(
    api: httpx.AsyncClient, services: Runtime, settings: Settings, token_for: Callable[..., str]
) -> None:
    """A load shows each chain's head unverified; "Verify now" shows each ok with its signed checkpoints."""
    units = services.services.units
    await log_entries(units, "usage", 3)
    await log_entries(units, "disclosure", 2)
    await checkpoint_writer(settings, units).write_due()
    csrf = await signed_in(api, token_for("kela-data-protection"))
    page = (await api.get("/console/audit")).text
    assert _verdicts(page) == {
        "disclosure": (2, "not verified yet"),
        "receipt": (0, "not verified yet"),
        "usage": (3, "not verified yet"),
    }
    verified = await api.post("/console/audit/verify", data={"csrf_token": csrf})
    assert verified.status_code == 200
    assert _verdicts(verified.text) == {
        "disclosure": (2, "verified ok"),
        "receipt": (0, "verified ok"),
        "usage": (3, "verified ok"),
    }
    usage_checkpoints = verified.text.split('<table class="checkpoints" data-chain="usage">')[1].split("</table>")[0]
    assert re.search(
        r'<td class="seq">3</td><td>[^<]+</td><td>silta-signing-\d+</td><td class="signature">ok</td>',
        usage_checkpoints,
    )


async def test_a_broken_chain_is_named_with_its_seq(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """An entry altered in the database shows its chain as broken at that entry's seq; the others stay ok."""
    units = services.services.units
    await log_entries(units, "usage", 4)
    await log_entries(units, "disclosure", 1)
    async with services.sessions.begin() as db:
        await db.execute(
            update(AuditEntry).where(AuditEntry.chain == "usage", AuditEntry.seq == 2).values(payload={"x": "forged"})
        )
    csrf = await signed_in(api, token_for("silta-operator"))
    verdicts = _verdicts((await api.post("/console/audit/verify", data={"csrf_token": csrf})).text)
    assert verdicts["usage"] == (4, "broken: altered at seq 2")
    assert verdicts["disclosure"] == (1, "verified ok")


async def test_verifying_needs_the_csrf_token(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """The verify button's POST without the page's CSRF token is a 403 `csrf-token-invalid`."""
    await signed_in(api, token_for("silta-operator"))
    refused = await api.post("/console/audit/verify")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf-token-invalid"
