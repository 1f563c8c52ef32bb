"""The console's tracking timeline and its overview numbers, against a message Kela really sent."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devinfra.samples import application_transfer
from tests.integration.both_ways import post_as_kela
from tests.support.console import signed_in

pytestmark = pytest.mark.integration


async def test_tracking_shows_a_message_timeline(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Kela's message, looked up by id in the console, shows its case, route and a timeline starting `accepted`."""
    message_id = str(uuid.uuid4())
    assert (await post_as_kela(api, token_for("kela"), application_transfer(message_id))).status_code == 202
    await signed_in(api, token_for("silta-admin"))
    page = await api.get("/console/tracking", params={"message_id": message_id})
    assert page.status_code == 200
    assert "kela →" in page.text
    assert re.search(r'<span class="event">accepted</span>', page.text)


async def test_tracking_an_unknown_id_is_a_404(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An id Silta does not hold is a 404 `message-not-found` problem document."""
    await signed_in(api, token_for("silta-operator"))
    answer = await api.get("/console/tracking", params={"message_id": str(uuid.uuid4())})
    assert answer.status_code == 404
    assert answer.json()["code"] == "message-not-found"


async def test_overview_numbers_equal_the_metrics(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Each party's outbox backlog on the overview is the `silta_outbox_pending` gauge of `/metrics`."""
    await signed_in(api, token_for("silta-operator"))
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
