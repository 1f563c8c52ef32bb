"""Tracking search over REST, on real PostgreSQL and Kafka: each party finds its own messages, page by page.

The app runs on a clock the tests move (a minute between messages, far below
the receipt timeout), so acceptance times, and the time ranges asked for, are
known exactly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from broker.domain.clock import ManualClock
from broker.settings import Settings
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer, example_message
from entrypoints.api import create_app
from tests.integration.both_ways import post_as_kela, send_as_organiser
from tests.support.tasks import kafka_client_bootstrapping
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
TAMPERE, EURA = "837", "050"  # hva-08 (Pirkanmaa) and hva-06 (Satakunta)


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock, standing at START until a test moves it."""
    return ManualClock(START)


@pytest.fixture
async def api(settings: Settings, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the real app running on the test's clock."""
    application = create_app(settings, clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://silta.test") as client:
            yield client
        await wait_until(lambda: not kafka_client_bootstrapping(), 15, what="the app's Kafka clients connected")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _case() -> str:
    return f"KELA-S-{uuid.uuid4().hex[:12]}"


async def _transfer(api: httpx.AsyncClient, token: str, case_id: str, municipality: str = TAMPERE) -> str:
    """Kela sends an application transfer of the case; its message id."""
    message_id = str(uuid.uuid4())
    document = application_transfer(message_id, case_id=case_id, municipality=municipality)
    assert (await post_as_kela(api, token, document)).status_code == 202
    return message_id


async def _search(
    api: httpx.AsyncClient, token: str, path: str = "/kela/v1/messages", **params: str | int
) -> dict[str, Any]:
    answer = await api.get(path, params=params, headers=_auth(token))
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["message_id"] for item in page["items"]]


async def test_kela_finds_by_case_type_and_time_range(
    api: httpx.AsyncClient, clock: ManualClock, token_for: Callable[..., str]
) -> None:
    """A case's messages by case id, narrowed by type and by [since, until), oldest first, with their summary."""
    token, case = token_for(), _case()
    first = await _transfer(api, token, case)
    clock.advance(MINUTE)
    notice = str(uuid.uuid4())
    document = example_message("basic-decision-notice", message_id=notice, case_id=case, municipality=TAMPERE)
    assert (await post_as_kela(api, token, document)).status_code == 202
    clock.advance(MINUTE)
    third = await _transfer(api, token, case)
    await _transfer(api, token, _case())  # another case: never in the results

    assert _ids(await _search(api, token, case_id=case)) == [first, notice, third]
    transfers = await _search(api, token, case_id=case, message_type="application-transfer")
    assert _ids(transfers) == [first, third]
    since, until = (START + MINUTE).isoformat(), (START + 2 * MINUTE).isoformat()
    assert _ids(await _search(api, token, case_id=case, since=since)) == [notice, third]
    assert _ids(await _search(api, token, case_id=case, until=until)) == [first, notice]
    assert _ids(await _search(api, token, case_id=case, since=since, until=until)) == [notice]
    helsinki_time = (START + MINUTE).astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    assert _ids(await _search(api, token, case_id=case, since=helsinki_time, until=until)) == [notice]
    [item] = transfers["items"][:1]
    assert item == {
        "message_id": first,
        "message_type": "application-transfer",
        "sender": "kela",
        "recipient": "hva-08",
        "case_id": case,
        "status": item["status"],
        "accepted_at": START.isoformat(),
        "due_date": None,
        "overdue": False,
        "href": f"/kela/v1/messages/{first}",
    }
    assert item["status"] in {"accepted", "published", "delivered"}
    assert transfers["next_cursor"] is None


async def test_kela_filters_by_party_and_status(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """`party` keeps the messages to or from that party; `status` those whose status is it now."""
    token, case = token_for(), _case()
    to_hva_08 = await _transfer(api, token, case, TAMPERE)
    to_hva_06 = await _transfer(api, token, case, EURA)
    assert _ids(await _search(api, token, case_id=case, party="hva-06")) == [to_hva_06]
    assert _ids(await _search(api, token, case_id=case, party="hva-08")) == [to_hva_08]
    assert _ids(await _search(api, token, case_id=case, party="hva-90")) == []

    async def both_published() -> bool:
        return len(_ids(await _search(api, token, case_id=case, status="published"))) == 2

    await wait_until(both_published, 30, interval_s=0.1, what="both transfers published")
    assert _ids(await _search(api, token, case_id=case, status="accepted")) == []


async def test_paging_returns_every_message_exactly_once(
    api: httpx.AsyncClient, clock: ManualClock, token_for: Callable[..., str]
) -> None:
    """Pages of 3 over 8 messages (several accepted in the same instant) give each once, in order, then stop."""
    token, case = token_for(), _case()
    sent: list[str] = []
    for minute in range(4):
        clock.set(START + minute * MINUTE)
        sent += [await _transfer(api, token, case), await _transfer(api, token, case)]
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await _search(api, token, case_id=case, limit=3, **({"cursor": cursor} if cursor else {}))
        pages.append(_ids(page))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    found = [message_id for page in pages for message_id in page]
    assert sorted(found) == sorted(sent)
    by_minute = [sorted(sent[i : i + 2]) for i in range(0, 8, 2)]
    assert found == [message_id for pair in by_minute for message_id in pair]


async def test_a_last_full_page_has_no_next_cursor(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """When the results fill the page exactly, `next_cursor` is null: no empty page to fetch."""
    token, case = token_for(), _case()
    for _ in range(2):
        await _transfer(api, token, case)
    page = await _search(api, token, case_id=case, limit=2)
    assert (len(page["items"]), page["next_cursor"]) == (2, None)


async def test_the_operator_sees_every_message_and_kela_its_own(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The operator's search spans every party; Kela's holds only messages Kela sent or receives."""
    token, case = token_for(), _case()
    ids = {await _transfer(api, token, case, TAMPERE), await _transfer(api, token, case, EURA)}
    operator = await _search(api, token_for("silta-operator"), case_id=case)
    assert set(_ids(operator)) == ids
    everything = await _search(api, token_for("silta-operator"), limit=200)
    assert ids <= set(_ids(everything))


INVALID = [
    ({"since": "1733212800"}, 400, "time-invalid", "/query/since"),
    ({"until": "2026-12-03T10:00:00"}, 400, "time-invalid", "/query/until"),
    ({"since": "2026-12-03"}, 400, "time-invalid", "/query/since"),
    ({"since": "2026-13-03T10:00:00Z"}, 400, "time-invalid", "/query/since"),
    ({"since": "2026-12-03T10:00:00Z", "until": "2026-12-03T09:00:00Z"}, 400, "time-range-invalid", "/query/until"),
    ({"cursor": "not-a-cursor"}, 400, "search-cursor-invalid", "/query/cursor"),
    ({"limit": "0"}, 422, "request-invalid", "/query/limit"),
    ({"limit": "201"}, 422, "request-invalid", "/query/limit"),
    ({"status": "lost"}, 422, "request-invalid", "/query/status"),
    ({"party": "somebody"}, 422, "request-invalid", "/query/party"),
    ({"message_type": "love-letter"}, 422, "unknown-message-type", None),
    ({"case_id": "010594Y9032"}, 422, "case-id-is-identity-code", "/query/case_id"),
]


@pytest.mark.parametrize("case", INVALID, ids=[str(p[0]) for p in INVALID])
async def test_invalid_parameters_are_problem_documents(
    case: tuple[dict[str, str], int, str, str | None], api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Each kind of bad parameter is refused with its status and stable code, naming the parameter."""
    params, status, code, path = case
    answer = await api.get("/kela/v1/messages", params=params, headers=_auth(token_for()))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == code
    if path is not None:
        assert path in [error["path"] for error in body["errors"]]
    assert "010594Y9032" not in answer.text


def _shape(answer: httpx.Response) -> tuple[int, str, str]:
    """What a refusal reveals: status, code and title (the detail only echoes the id asked for)."""
    body = answer.json()
    return answer.status_code, body["code"], body["title"]


async def test_an_organiser_sees_its_own_messages_and_not_another_organisers(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """hva-08 finds what it sent and receives, by search and by id; hva-06's message is absent and a 404 to it."""
    token, case = token_for(), _case()
    to_hva_08 = await _transfer(api, token, case, TAMPERE)
    to_hva_06 = await _transfer(api, token, case, EURA)
    sent = await send_as_organiser(kafka, example_message("information-request", variant="from-hva-08", case_id=case))
    hva_08, hva_06 = token_for("hva-08-case-system"), token_for("hva-06-case-system")
    found: dict[str, Any] = {}

    async def hva_08_sees_its_request() -> bool:
        nonlocal found
        found = await _search(api, hva_08, "/organiser/v1/messages", case_id=case)
        return sent.message_id in _ids(found)

    # The first consumer group of a fresh broker may wait a while for its coordinator: a generous bound.
    await wait_until(hva_08_sees_its_request, 120, interval_s=0.2, what="hva-08's request accepted")
    assert {to_hva_08, sent.message_id} <= set(_ids(found))
    assert to_hva_06 not in _ids(found)
    assert all("hva-08" in (item["sender"], item["recipient"]) for item in found["items"])
    assert {item["href"] for item in found["items"]} >= {f"/organiser/v1/messages/{to_hva_08}"}
    assert _ids(await _search(api, hva_06, "/organiser/v1/messages", case_id=case)) == [to_hva_06]

    own = await api.get(f"/organiser/v1/messages/{to_hva_08}", headers=_auth(hva_08))
    assert (own.status_code, own.json()["recipient"], own.json()["history"][0]["status"]) == (200, "hva-08", "accepted")
    foreign = await api.get(f"/organiser/v1/messages/{to_hva_06}", headers=_auth(hva_08))
    unknown = await api.get(f"/organiser/v1/messages/{uuid.uuid4()}", headers=_auth(hva_08))
    assert _shape(foreign) == _shape(unknown) == (404, "message-not-found", "Message not found")

    kela = await _search(api, token, case_id=case)
    assert {to_hva_08, to_hva_06, sent.message_id} <= set(_ids(kela))
    assert all("kela" in (item["sender"], item["recipient"]) for item in kela["items"])
    operator = await _search(api, token_for("silta-operator"), case_id=case)
    assert set(_ids(operator)) >= set(_ids(kela)) | set(_ids(found))


async def test_the_organiser_routes_are_for_organisers_and_kelas_search_is_not(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Kela and the operator are refused on /organiser/v1; an organiser on Kela's search: 403 client-not-allowed."""
    refusals = [
        await api.get("/organiser/v1/messages", headers=_auth(token_for())),
        await api.get("/organiser/v1/messages", headers=_auth(token_for("silta-operator"))),
        await api.get("/kela/v1/messages", headers=_auth(token_for("hva-08-case-system"))),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refusals] == [(403, "client-not-allowed")] * 3
