"""The console's tracking timeline and its overview numbers, against messages really sent both ways."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE
from broker.settings import Settings
from broker.store.tables import ParkedRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items, post_as_kela, send_as_organiser
from tests.support.console import signed_in
from tests.support.databases import outbox_drained
from tests.support.waiting import wait_until

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
    await signed_in(api, token_for("silta-operator"))
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
    await signed_in(api, token_for("silta-operator"))
    page = await api.get("/console/tracking", params={"search": "1", "since": "2026-12-03T10:00"})
    assert page.status_code == 200
    assert '<p id="search-error" role="alert">`since` must be an ISO 8601 date and time' in page.text
    assert 'id="results"' not in page.text


async def test_tracking_an_unknown_id_is_a_404(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An id Silta does not hold is a 404 `message-not-found` problem document."""
    await signed_in(api, token_for("silta-operator"))
    answer = await api.get("/console/tracking", params={"message_id": str(uuid.uuid4())})
    assert answer.status_code == 404
    assert answer.json()["code"] == "message-not-found"


def _gauges(metrics: str, name: str, labels: tuple[str, ...] = ("party",)) -> dict[tuple[str, ...], float]:
    """One gauge's samples from `/metrics`, by the values of `labels`."""
    return {
        tuple(sample.labels[label] for label in labels): sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == name
        for sample in family.samples
    }


_PLACE = ("topic", "partition")


def _column(panel: str, cell: str) -> dict[tuple[str, ...], float]:
    """One column of the overview's party table, by party, zeros left out (as the gauges leave them out)."""
    rows = re.findall(r'<tr data-party="([^"]+)">(.*?)</tr>', panel, re.S)
    found = {(party,): re.search(f'<td class="{cell}">(\\d+)</td>', row) for party, row in rows}
    return {party: float(m.group(1)) for party, m in found.items() if m and int(m.group(1))}


async def test_overview_numbers_equal_the_metrics(
    api: httpx.AsyncClient,
    kafka: LocalKafka,
    services: Runtime,
    settings: Settings,
    token_for: Callable[..., str],
) -> None:
    """Every overview figure `/metrics` also reports is the gauge's value, after real traffic both ways.

    Backlog, open and overdue requests, last delivery, parked records, consumer lag in records and seconds.
    """
    asked = await post_as_kela(api, token_for("kela"), example_message("information-request"))
    assert asked.status_code == 202, asked.text
    sent = await send_as_organiser(kafka, example_message("decision-notice"))
    await inbox_items(api, token_for("kela"), {sent.message_id})
    await wait_until(outbox_drained(settings.database_url), 30, what="the outbox published")
    await wait_until(lambda: not any(services.inbound.lag().values()), 30, what="the consumer caught up")
    async with services.sessions.begin() as db:
        db.add(
            ParkedRecord(
                topic="silta.from.hva-08.v1",
                kafka_partition=0,
                kafka_offset=99,
                error_code="seal-invalid",
                parked_at=dt.datetime.now(dt.UTC),
            )
        )
    await signed_in(api, token_for("silta-operator"))
    metrics = (await api.get("/metrics")).text
    panel = (await api.get("/console/overview-panel")).text
    assert _column(panel, "outbox") == _gauges(metrics, "silta_outbox_pending", ("recipient",))
    assert _column(panel, "overdue") == _gauges(metrics, "silta_overdue_requests")
    assert _column(panel, "open") == _gauges(metrics, "silta_open_requests")
    assert _gauges(metrics, "silta_open_requests")  # Kela's request at least, open at its organiser
    delivered = {(p,): float(t) for p, t in re.findall(r'<tr data-party="([^"]+)">.*?data-unix="([^"]+)"', panel)}
    assert delivered == _gauges(metrics, "silta_last_delivery_timestamp_seconds")
    assert ("kela",) in delivered  # the decision notice reached Kela's inbox
    parked = {
        (r,): float(n) for r, n in re.findall(r'data-reason="([^"]+)"><td>[^<]+</td><td class="count">(\d+)', panel)
    }
    assert parked == _gauges(metrics, "silta_parked_records", ("reason",))
    assert parked[("seal-invalid",)] >= 1  # the record parked above (other tests of the session may park too)
    lag = re.findall(r'data-topic="([^"]+)" data-partition="(\d+)">.*?"records">(\d+)<.*?"seconds">([\d.]+)<', panel)
    assert {(t, p): float(n) for t, p, n, _ in lag} == _gauges(metrics, "silta_consumer_lag_records", _PLACE)
    assert {(t, p): float(sec) for t, p, _, sec in lag} == _gauges(metrics, "silta_consumer_lag_seconds", _PLACE)
