"""The console's tracking timeline and its overview numbers, against a message Kela really sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE
from devinfra.samples import application_transfer
from tests.integration.both_ways import post_as_kela

pytestmark = pytest.mark.integration


async def _signed_in(api: httpx.AsyncClient, token: str) -> None:
    answer = await api.post("/console/sign-in", data={"token": token})
    assert answer.status_code == 303


async def test_tracking_shows_a_message_timeline(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Kela's message, looked up by id in the console, shows its case, route and a timeline starting `accepted`."""
    message_id = str(uuid.uuid4())
    assert (await post_as_kela(api, token_for("kela"), application_transfer(message_id))).status_code == 202
    await _signed_in(api, token_for("silta-admin"))
    page = await api.get("/console/tracking", params={"message_id": message_id})
    assert page.status_code == 200
    assert "kela →" in page.text
    assert re.search(r'<span class="event">accepted</span>', page.text)


async def test_tracking_search_lists_messages_linking_to_their_timelines(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The search form finds a case's messages (another case's never); each row links to its timeline."""
    case = f"KELA-C-{uuid.uuid4().hex[:12]}"
    ids = [str(uuid.uuid4()) for _ in range(2)]
    for message_id in ids:
        document = application_transfer(message_id, case_id=case)
        assert (await post_as_kela(api, token_for("kela"), document)).status_code == 202
    other = str(uuid.uuid4())
    assert (await post_as_kela(api, token_for("kela"), application_transfer(other))).status_code == 202
    await _signed_in(api, token_for("silta-operator"))
    form = await api.get("/console/tracking")
    assert '<form method="get" action="/console/tracking" id="search">' in form.text
    page = await api.get("/console/tracking", params={"search": "1", "case_id": case, "party": "hva-90"})
    assert page.status_code == 200
    rows = re.findall(r'<tr data-id="([^"]+)"><td><a href="/console/tracking\?message_id=([^"]+)">', page.text)
    assert sorted(rows) == sorted((message_id, message_id) for message_id in ids)
    assert other not in page.text
    assert LOOKS_LIKE_IDENTITY_CODE.search(page.text) is None
    timeline = await api.get("/console/tracking", params={"message_id": ids[0]})
    assert re.search(r'<span class="event">accepted</span>', timeline.text)


async def test_tracking_search_with_a_bad_time_says_so_on_the_page(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A time without a zone is not searched for: the form comes back with what is wrong and no results."""
    await _signed_in(api, token_for("silta-operator"))
    page = await api.get("/console/tracking", params={"search": "1", "since": "2026-12-03T10:00"})
    assert page.status_code == 200
    assert '<p id="search-error" role="alert">`since` must be an ISO 8601 date and time' in page.text
    assert 'id="results"' not in page.text


async def test_tracking_an_unknown_id_is_a_404(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An id Silta does not hold is a 404 `message-not-found` problem document."""
    await _signed_in(api, token_for("silta-operator"))
    answer = await api.get("/console/tracking", params={"message_id": str(uuid.uuid4())})
    assert answer.status_code == 404
    assert answer.json()["code"] == "message-not-found"


async def test_overview_numbers_equal_the_metrics(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Each party's outbox backlog on the overview is the `silta_outbox_pending` gauge of `/metrics`."""
    await _signed_in(api, token_for("silta-operator"))
    gauges = {
        sample.labels["recipient"]: int(sample.value)
        for family in text_string_to_metric_families((await api.get("/metrics")).text)
        if family.name == "silta_outbox_pending"
        for sample in family.samples
    }
    panel = (await api.get("/console/overview-panel")).text
    shown = {
        party: int(count)
        for party, count in re.findall(r'<tr data-party="([^"]+)"><td>[^<]+</td><td class="outbox">(\d+)</td>', panel)
        if int(count)
    }
    assert shown == gauges
