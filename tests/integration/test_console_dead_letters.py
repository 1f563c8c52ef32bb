"""The console's dead-letter page: replay and discard as POST forms with the session's CSRF token."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Callable

import httpx
import pytest

from broker.store.tables import ParkedRecord
from devinfra.samples import example_message
from entrypoints.bootstrap import Runtime
from tests.integration.dead_letters_helpers import park_directly
from tests.support.console import sign_in

pytestmark = pytest.mark.integration


async def _signed_in(api: httpx.AsyncClient, token: str) -> str:
    """Sign in; the CSRF token the dead-letter page carries."""
    assert (await sign_in(api, token)).status_code == 303
    page = await api.get("/console/parked")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def _row(services: Runtime, record_id: int) -> ParkedRecord:
    async with services.sessions() as session:
        row = await session.get(ParkedRecord, record_id)
    assert row is not None
    return row


async def test_a_replay_with_the_csrf_token_delivers_and_one_without_is_refused(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Without the token: 403 `csrf-token-invalid`, the row untouched; with it: replayed, the notice says so."""
    message_id = str(uuid.uuid4())
    record = await park_directly(services.sessions, example_message("decision-notice", message_id=message_id), 911)
    csrf = await _signed_in(api, token_for("silta-operator"))
    assert f'<tr data-id="{record}">' in (await api.get("/console/parked")).text
    refused = await api.post(f"/console/parked/{record}/replay")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf-token-invalid"
    assert (await _row(services, record)).replayed_at is None
    done = await api.post(f"/console/parked/{record}/replay", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert (await _row(services, record)).replayed_message_id == message_id
    notice = await api.get(done.headers["location"])
    assert f"record {record}: delivered" in notice.text


async def test_replay_the_selected_and_discard_with_a_reason(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Two ticked records replayed together (one fails again); the other discarded with a reason."""
    good = await park_directly(services.sessions, example_message("decision-notice", message_id=str(uuid.uuid4())), 912)
    bad = await park_directly(services.sessions, b"<not-xml", 913)
    csrf = await _signed_in(api, token_for("silta-admin"))
    nothing = await api.post("/console/parked/replay-selected", data={"csrf_token": csrf})
    assert (nothing.status_code, nothing.headers["location"]) == (303, "/console/parked?notice=no+record+selected")
    answer = await api.post("/console/parked/replay-selected", data={"csrf_token": csrf, "record_id": [good, bad]})
    assert answer.status_code == 303
    notice = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.headers["location"]).query)["notice"][0]
    assert notice == "replayed: 1 delivered, 0 duplicates, 1 parked again, 0 skipped"
    assert (await _row(services, bad)).error_code == "xml-not-well-formed"
    missing = await api.post(f"/console/parked/{bad}/discard", data={"csrf_token": csrf})
    assert missing.json()["code"] == "discard-reason-missing"
    data = {"csrf_token": csrf, "reason": "broken case system test"}
    assert (await api.post(f"/console/parked/{bad}/discard", data=data)).status_code == 303
    discarded = await _row(services, bad)
    assert (discarded.discarded_by, discarded.discard_reason) == ("silta-admin", "broken case system test")


async def test_data_protection_may_look_but_not_replay(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Kela's data-protection function sees the page; its replay is 403 `client-not-allowed`."""
    record = await park_directly(services.sessions, b"<not-xml", 914)
    csrf = await _signed_in(api, token_for("kela-data-protection"))
    refused = await api.post(f"/console/parked/{record}/replay", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert refused.json()["code"] == "client-not-allowed"
