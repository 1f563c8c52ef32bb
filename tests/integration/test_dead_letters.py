"""Dead letters over the admin API: a parked record replayed once, failing again, discarded; roles and 404s."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from broker.domain.clock import ManualClock
from broker.domain.dead_letters import ReplayOutcome
from broker.services.retention import run_retention
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.store.tables import AuditEntry, InboxEntry, ParkedRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items
from tests.integration.dead_letters_helpers import park, park_directly, register_again

pytestmark = pytest.mark.integration


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _row(services: Runtime, record_id: int) -> ParkedRecord:
    async with services.sessions() as session:
        row = await session.get(ParkedRecord, record_id)
    assert row is not None
    return row


async def test_a_record_parked_for_an_unknown_key_reaches_kela_exactly_once_when_replayed(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Parked as `key-unknown`; key registered; replayed: in Kela's inbox once; a second replay is skipped."""
    message_id = str(uuid.uuid4())
    row = await park(services, kafka, example_message("decision-notice", message_id=message_id))
    await register_again(services)
    operator = _auth(token_for("silta-operator"))
    listed = (await api.get("/admin/v1/parked", params={"reason": "key-unknown"}, headers=operator)).json()
    assert row.id in [item["id"] for item in listed["items"]]
    first = await api.post(f"/admin/v1/parked/{row.id}/replay", headers=operator)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "delivered"
    assert first.json()["message_id"] == message_id
    await inbox_items(api, token_for("kela"), {message_id})
    again = await api.post(f"/admin/v1/parked/{row.id}/replay", headers=operator)
    assert again.json()["outcome"] == "skipped"
    async with services.sessions() as session:
        delivered = await session.scalar(select(func.count()).where(InboxEntry.message_id == message_id))
    assert delivered == 1
    shown = (await api.get(f"/admin/v1/parked/{row.id}", headers=operator)).json()
    assert (shown["state"], shown["replayed_message_id"], shown["attempts"]) == ("replayed", message_id, 2)
    assert shown["replayed_at"] is not None


async def test_a_replay_that_fails_again_keeps_the_value_with_the_new_error(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """A record that is no XML: parked `key-unknown`, replayed after the key is back: `xml-not-well-formed`, 2 tries."""
    row = await park(services, kafka, b"<not-xml", check=False)
    await register_again(services)
    answer = await api.post(f"/admin/v1/parked/{row.id}/replay", headers=_auth(token_for("silta-admin")))
    assert answer.json()["outcome"] == "parked-again"
    assert answer.json()["error_code"] == "xml-not-well-formed"
    again = await _row(services, row.id)
    assert (again.error_code, again.attempts, again.value) == ("xml-not-well-formed", 2, row.value)
    assert again.last_attempt_at is not None
    assert again.replayed_at is None


async def test_a_replay_of_all_matching_counts_each_outcome(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Two parked records, one good and one not XML, replayed by filter: one delivered, one parked again."""
    good = await park(services, kafka, example_message("decision-notice", message_id=str(uuid.uuid4())))
    bad = await park(services, kafka, b"<not-xml", check=False)
    await register_again(services)
    body = {"sender": "hva-08", "reason": "key-unknown", "since": good.parked_at.isoformat()}
    answer = await api.post("/admin/v1/parked/replay", json=body, headers=_auth(token_for("silta-operator")))
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert counts["delivered"] >= 1
    assert counts["parked_again"] >= 1
    assert (await _row(services, good.id)).replayed_at is not None
    assert (await _row(services, bad.id)).error_code == "xml-not-well-formed"


async def test_a_discard_needs_a_reason_and_is_written_to_the_usage_log(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """No reason: 422 `discard-reason-missing`; with one: discarded, by whom and why in the usage log."""
    row = await park(services, kafka, b"<not-xml", check=False)
    operator = _auth(token_for("silta-operator"))
    refused = await api.post(f"/admin/v1/parked/{row.id}/discard", json={}, headers=operator)
    assert refused.status_code == 422
    assert refused.json()["code"] == "discard-reason-missing"
    answer = await api.post(f"/admin/v1/parked/{row.id}/discard", json={"reason": "test noise"}, headers=operator)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["discarded_by"]) == ("discarded", "silta-operator")
    async with services.sessions() as session:
        usages = list(await session.scalars(select(AuditEntry.payload).where(AuditEntry.chain == "usage")))
    [logged] = [p for p in usages if p.get("parked_record") == str(row.id)]
    assert (logged["user"], logged["reason"], logged["error_code"]) == ("silta-operator", "test noise", "key-unknown")
    twice = await api.post(f"/admin/v1/parked/{row.id}/discard", json={"reason": "again"}, headers=operator)
    assert twice.json()["code"] == "parked-record-resolved"


async def test_the_parked_gauge_counts_only_unresolved_records(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """`silta_parked_records{reason="key-unknown"}` goes down by one when a record is discarded."""
    row = await park(services, kafka, b"<not-xml", check=False)
    before = await _parked_gauge(api, "key-unknown")
    body = {"reason": "test"}
    await api.post(f"/admin/v1/parked/{row.id}/discard", json=body, headers=_auth(token_for("silta-operator")))
    assert await _parked_gauge(api, "key-unknown") == before - 1


async def _parked_gauge(api: httpx.AsyncClient, reason: str) -> int:
    families = text_string_to_metric_families((await api.get("/metrics")).text)
    samples = [s for f in families if f.name == "silta_parked_records" for s in f.samples]
    return sum(int(s.value) for s in samples if s.labels["reason"] == reason)


async def test_an_unknown_parked_id_is_a_404_problem(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Show, replay and discard of an id that is not parked: 404 `parked-record-not-found`."""
    operator = _auth(token_for("silta-operator"))
    for answer in (
        await api.get("/admin/v1/parked/987654", headers=operator),
        await api.post("/admin/v1/parked/987654/replay", headers=operator),
        await api.post("/admin/v1/parked/987654/discard", json={"reason": "x"}, headers=operator),
    ):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "parked-record-not-found"


@pytest.mark.parametrize("client", ["kela", "hva-08-case-system", "guardian-portal"])
async def test_parties_may_not_see_or_replay_dead_letters(
    api: httpx.AsyncClient, token_for: Callable[..., str], client: str
) -> None:
    """Kela's, an organiser's and the portal's tokens: 403 `client-not-allowed` on every dead-letter route."""
    headers = _auth(token_for(client))
    for answer in (
        await api.get("/admin/v1/parked", headers=headers),
        await api.post("/admin/v1/parked/1/replay", headers=headers),
        await api.post("/admin/v1/parked/replay", json={}, headers=headers),
        await api.get("/admin/v1/rejections", headers=headers),
    ):
        assert answer.status_code == 403
        assert answer.json()["code"] == "client-not-allowed"


async def test_two_replays_at_once_deliver_the_record_once(kafka: LocalKafka, services: Runtime) -> None:
    """Two operators replay one record at the same moment: the row lock lets one deliver, the other skips."""
    row = await park(services, kafka, example_message("decision-notice", message_id=str(uuid.uuid4())))
    await register_again(services)
    replays = services.services.replays
    results = await asyncio.gather(replays.replay_one(row.id), replays.replay_one(row.id))
    assert sorted(str(r.outcome) for r in results) == ["delivered", "skipped"]


async def test_retention_empties_the_value_of_a_replayed_record_and_keeps_its_row(services: Runtime) -> None:
    """Past the retention period a replayed record's value is purged; its position, code and outcome stay."""
    record = await park_directly(
        services.sessions, example_message("decision-notice", message_id=str(uuid.uuid4())), 921
    )
    assert (await services.services.replays.replay_one(record)).outcome is ReplayOutcome.DELIVERED
    later = ManualClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=91))
    async with UnitOfWorkFactory(services.sessions, later, lambda: None)() as uow:
        await run_retention(uow, 90)
        await uow.commit()
    purged = await _row(services, record)
    assert purged.value is None
    assert (purged.error_code, purged.replayed_at is not None) == ("key-unknown", True)
    assert (await services.services.replays.replay_one(record)).outcome is ReplayOutcome.SKIPPED


async def test_a_filter_needs_zoned_times_and_refuses_what_no_code_looks_like(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """`since` needs its zone (else 400 `time-invalid`, as in tracking); an odd reason is 422 `request-invalid`."""
    operator = _auth(token_for("silta-operator"))
    naive = await api.get("/admin/v1/parked", params={"since": "2026-01-01T00:00:00"}, headers=operator)
    assert naive.status_code == 400, naive.text
    assert naive.json()["code"] == "time-invalid"
    zoned = await api.get("/admin/v1/parked", params={"since": "2026-01-01T00:00:00+02:00"}, headers=operator)
    assert zoned.status_code == 200, zoned.text
    odd = await api.get("/admin/v1/parked", params={"reason": "a\x00b"}, headers=operator)
    assert odd.status_code == 422
    assert odd.json()["code"] == "request-invalid"
    body = {"until": "2026-01-01T00:00:00", "sender": "hva-08"}
    assert (await api.post("/admin/v1/parked/replay", json=body, headers=operator)).json()["delivered"] == 0
