"""Deadlines per message type on real Kafka and PostgreSQL, with a clock the test moves.

Two sweepers (the app's engine and a second instance's) run several rounds at
each moment; every reminder and overdue notice must exist exactly once, and
go to the right party: the reminder to the one that must answer, the overdue
notice to the one that waits (Kela in its inbox, an organiser on its topic).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.municipality.messages import SiltaMessage
from broker.crypto.ids import MessageIds
from broker.domain.catalogue import RECEIPT
from broker.domain.clock import FINLAND, ManualClock, finnish_date
from broker.domain.working_days import add_working_days
from broker.services.overdue import OverdueSweep, OverdueWatch
from broker.services.receipts import ReceiptWriter
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.store.tables import MessageRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import EXAMPLE_ATTACHMENT, application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.api_helpers import wait_for_status
from tests.integration.both_ways import inbox_items, post_as_kela, send_as_organiser
from tests.integration.instances import instance_sessions, units_of
from tests.integration.kafka_helpers import collect, correlation_id
from tests.support.databases import outbox_drained
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
_NS = {"r": RECEIPT.namespace}


async def _waits_for_a_lock(sessions: async_sessionmaker[AsyncSession], pid: int | None) -> bool:
    """Whether the backend `pid` waits for a lock another transaction holds."""
    if pid is None:
        return False
    async with sessions() as session:
        query = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")
        return bool(await session.scalar(query, {"pid": pid}) == "Lock")


class Sweepers:
    """Two instances' deadline watches on one database and one manual clock."""

    def __init__(self, watches: list[OverdueWatch], clock: ManualClock, units: list[UnitOfWorkFactory]) -> None:
        self.watches = watches
        self.clock = clock
        self.units = units
        """Each instance's units of work, for sweeps that bypass the watches' lock."""

    async def at(self, day: dt.date, rounds: int = 3) -> None:
        """Put the clock at noon of a Finnish day and let both watches sweep `rounds` times side by side."""
        self.clock.set(dt.datetime.combine(day, dt.time(12), tzinfo=FINLAND))
        for _ in range(rounds):
            await asyncio.gather(*(watch.check_once() for watch in self.watches))


@pytest.fixture
async def sweepers(services: Runtime, database_url: str) -> AsyncIterator[Sweepers]:
    """The two sweepers; their notices wake the app's relay."""
    clock = ManualClock()
    sweep = OverdueSweep(ReceiptWriter(MessageIds(b"d" * 32)), dt.timedelta(hours=24))
    async with instance_sessions(database_url) as other:
        units = [units_of(s, services.relay.wake, clock) for s in (services.sessions, other)]
        yield Sweepers([OverdueWatch(u, sweep, 60) for u in units], clock, units)


@pytest.fixture
async def example_attachment_held(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """The example response's manifest references the fictitious PDF: Silta must hold it first."""
    answer = await api.post(
        "/kela/v1/attachments",
        content=EXAMPLE_ATTACHMENT.read_bytes(),
        headers={**_auth(token_for()), "Content-Type": "application/pdf"},
    )
    assert answer.status_code == 201, answer.text


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _due_in(working_days: int) -> dt.date:
    """A due date this many working days from today (far enough that the app's own watch leaves it alone)."""
    return add_working_days(finnish_date(dt.datetime.now(dt.UTC)), working_days)


def _with_due_date(document: bytes, due: dt.date) -> bytes:
    return document.replace(b"<DueDate>2099-03-21</DueDate>", f"<DueDate>{due.isoformat()}</DueDate>".encode())


async def _notices(services: Runtime, about: str) -> list[tuple[str, str, str | None]]:
    """Silta's notices about a message: (recipient, outcome, due date), in the order written."""
    async with services.sessions() as session:
        rows = await session.execute(
            select(MessageRecord.recipient, MessageRecord.body)
            .where(MessageRecord.correlation_id == about, MessageRecord.sender == "silta")
            .order_by(MessageRecord.accepted_at)
        )
        found = []
        for recipient, body in rows:
            root = etree.fromstring(body)
            found.append(
                (recipient, str(root.findtext("r:Outcome", namespaces=_NS)), root.findtext("r:DueDate", namespaces=_NS))
            )
    return [n for n in found if n[1] in ("reminder-due", "overdue")]


async def _steps(api: httpx.AsyncClient, token: str, message_id: str) -> list[str]:
    """The statuses of a message's history as Kela sees it."""
    answer = await api.get(f"/kela/v1/messages/{message_id}", headers=_auth(token))
    assert answer.status_code == 200, answer.text
    return [step["status"] for step in answer.json()["history"]]


async def test_kelas_unanswered_request_reminds_the_organiser_then_tells_kela_once(
    api: httpx.AsyncClient, services: Runtime, sweepers: Sweepers, token_for: Callable[..., str]
) -> None:
    """Kela asks hva-08: a week early nothing, the day before one reminder to hva-08, after it one notice to Kela."""
    token, request_id, due = token_for(), str(uuid.uuid4()), _due_in(10)
    document = _with_due_date(example_message("information-request", message_id=request_id), due)
    assert (await post_as_kela(api, token, document)).is_success
    await wait_for_status(api, token, request_id, "published")

    await sweepers.at(due - dt.timedelta(days=7))
    assert await _notices(services, request_id) == []
    await sweepers.at(due - dt.timedelta(days=1))
    assert await _notices(services, request_id) == [("hva-08", "reminder-due", due.isoformat())]
    await sweepers.at(due + dt.timedelta(days=1))
    await sweepers.at(due + dt.timedelta(days=5))
    notices = await _notices(services, request_id)
    assert notices == [("hva-08", "reminder-due", due.isoformat()), ("kela", "overdue", due.isoformat())]
    steps = await _steps(api, token, request_id)
    assert (steps.count("reminder-due"), steps.count("overdue")) == (1, 1)
    assert steps.index("reminder-due") < steps.index("overdue")


async def test_kela_finds_the_overdue_notice_in_its_inbox_and_closes_it(
    api: httpx.AsyncClient, services: Runtime, sweepers: Sweepers, token_for: Callable[..., str]
) -> None:
    """The overdue notice is a receipt in Kela's inbox naming the request and its due date; receipting closes it."""
    token, request_id, due = token_for(), str(uuid.uuid4()), _due_in(10)
    document = _with_due_date(example_message("information-request", message_id=request_id), due)
    assert (await post_as_kela(api, token, document)).is_success
    await wait_for_status(api, token, request_id, "published")
    await sweepers.at(due + dt.timedelta(days=1))
    async with services.sessions() as session:
        notice_id = await session.scalar(
            select(MessageRecord.message_id).where(
                MessageRecord.correlation_id == request_id, MessageRecord.recipient == "kela"
            )
        )
    assert notice_id is not None
    [item] = await inbox_items(api, token, {notice_id})
    assert item["message_type"] == "receipt"
    body = etree.fromstring((await api.get(item["href"], headers=_auth(token))).content)
    assert body.findtext("r:Outcome", namespaces=_NS) == "overdue"
    assert body.findtext("r:DueDate", namespaces=_NS) == due.isoformat()
    assert b"DataSubject" not in etree.tostring(body)
    closed = await api.post(f"{item['href']}/receipt", headers=_auth(token))
    assert closed.status_code == 200, closed.text
    listing = await api.get("/kela/v1/inbox", params={"after": int(item["cursor"]) - 1}, headers=_auth(token))
    assert notice_id not in {i["message_id"] for i in listing.json()["items"]}


@pytest.mark.usefixtures("example_attachment_held")
async def test_a_request_answered_in_time_gets_no_notice(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, sweepers: Sweepers, token_for: Callable[..., str]
) -> None:
    """hva-08 answers Kela's request before its due date: no reminder, no overdue step, no notice, however late."""
    token, request_id, due = token_for(), str(uuid.uuid4()), _due_in(10)
    document = _with_due_date(example_message("information-request", message_id=request_id), due)
    assert (await post_as_kela(api, token, document)).is_success
    await wait_for_status(api, token, request_id, "published")
    answer = example_message("information-response", variant="from-hva-08", correlation_id=request_id)
    sent = await send_as_organiser(kafka, answer)
    [receipt] = await collect(kafka, "hva-08", {sent.message_id}, by=correlation_id, timeout_s=90)
    assert isinstance(receipt.message, SiltaMessage)
    assert receipt.message.text("Outcome") == "accepted", receipt.message.text("Errors/Error/Reason")
    await inbox_items(api, token, {sent.message_id})
    await wait_for_status(api, token, request_id, "answered")
    for day in (due - dt.timedelta(days=1), due + dt.timedelta(days=1), due + dt.timedelta(days=30)):
        await sweepers.at(day)
    assert await _notices(services, request_id) == []
    steps = await _steps(api, token, request_id)
    assert "reminder-due" not in steps
    assert "overdue" not in steps


async def test_an_organisers_unanswered_request_reminds_kela_and_tells_the_organiser_on_its_topic(
    api: httpx.AsyncClient,
    kafka: LocalKafka,
    services: Runtime,
    sweepers: Sweepers,
    token_for: Callable[..., str],
) -> None:
    """hva-08 asks Kela: the reminder goes to Kela's inbox, the overdue notice (once) to silta.to.hva-08.v1."""
    token, due = token_for(), _due_in(10)
    sent = await send_as_organiser(
        kafka, _with_due_date(example_message("information-request", variant="from-hva-08"), due)
    )
    await inbox_items(api, token, {sent.message_id})
    await sweepers.at(due - dt.timedelta(days=1))
    await sweepers.at(due + dt.timedelta(days=1))
    await sweepers.at(due + dt.timedelta(days=2))
    assert await _notices(services, sent.message_id) == [
        ("kela", "reminder-due", due.isoformat()),
        ("hva-08", "overdue", due.isoformat()),
    ]
    deliveries = await collect(
        kafka,
        "hva-08",
        {sent.message_id},
        by=correlation_id,
        until_quiet=outbox_drained(services.settings.database_url),
    )
    receipts = [d.message for d in deliveries if isinstance(d.message, SiltaMessage)]
    assert sorted(str(r.text("Outcome")) for r in receipts) == ["accepted", "overdue"]
    [overdue] = [r for r in receipts if r.text("Outcome") == "overdue"]
    assert overdue.text("DueDate") == due.isoformat()
    steps = await _steps(api, token, sent.message_id)
    assert (steps.count("reminder-due"), steps.count("overdue")) == (1, 1)


async def test_an_unreceipted_transfer_reminds_the_organiser_and_tells_kela_after_three_working_days(
    api: httpx.AsyncClient, services: Runtime, sweepers: Sweepers, token_for: Callable[..., str]
) -> None:
    """No business receipt for Kela's transfer: on its due day a reminder to hva-08, the day after a notice to Kela."""
    token, transfer_id = token_for(), str(uuid.uuid4())
    assert (await post_as_kela(api, token, application_transfer(transfer_id, municipality="837"))).is_success
    status = await wait_for_status(api, token, transfer_id, "published")
    published = finnish_date(dt.datetime.fromisoformat(status["published_at"]))
    due = add_working_days(published, 3)
    await sweepers.at(published)
    assert await _notices(services, transfer_id) == []
    await sweepers.at(due)
    await sweepers.at(due + dt.timedelta(days=1))
    assert await _notices(services, transfer_id) == [
        ("hva-08", "reminder-due", due.isoformat()),
        ("kela", "overdue", due.isoformat()),
    ]


async def test_kelas_request_to_the_client_gets_the_steps_but_no_notices(
    api: httpx.AsyncClient, services: Runtime, sweepers: Sweepers, token_for: Callable[..., str]
) -> None:
    """Mirrored to hva-08 (AddressedTo client, 18 h §): the organiser owes nothing, so nobody is reminded or told."""
    token, request_id, due = token_for(), str(uuid.uuid4()), _due_in(10)
    document = example_message("information-request", variant="to-client", message_id=request_id)
    assert (await post_as_kela(api, token, _with_due_date(document, due))).is_success
    await wait_for_status(api, token, request_id, "published")
    await sweepers.at(due - dt.timedelta(days=1))
    await sweepers.at(due + dt.timedelta(days=1))
    assert await _notices(services, request_id) == []
    steps = await _steps(api, token, request_id)
    assert (steps.count("reminder-due"), steps.count("overdue")) == (1, 1)


async def test_without_the_lock_the_database_still_refuses_a_second_overdue_notice(
    api: httpx.AsyncClient, services: Runtime, sweepers: Sweepers, token_for: Callable[..., str]
) -> None:
    """Two sweeps that cannot see each other's history (no advisory lock) write the same notice id: one fails."""
    token, request_id, due = token_for(), str(uuid.uuid4()), _due_in(10)
    document = _with_due_date(example_message("information-request", message_id=request_id), due)
    assert (await post_as_kela(api, token, document)).is_success
    await wait_for_status(api, token, request_id, "published")
    sweepers.clock.set(dt.datetime.combine(due + dt.timedelta(days=1), dt.time(12), tzinfo=FINLAND))
    sweep = OverdueSweep(ReceiptWriter(MessageIds(b"d" * 32)), dt.timedelta(hours=24))
    first_units, second_units = sweepers.units

    second_pid: list[int] = []

    async def second_sweep() -> list[str]:
        async with second_units() as second:
            second_pid.append(int(await second.session.scalar(text("SELECT pg_backend_pid()")) or 0))
            found = (await sweep.sweep(second)).overdue
            await second.commit()
        return found

    async with first_units() as first:
        assert request_id in (await sweep.sweep(first)).overdue
        racing = asyncio.create_task(second_sweep())  # sees the request as not yet flagged, inserts the same notice
        await wait_until(
            lambda: _waits_for_a_lock(services.sessions, next(iter(second_pid), None)),
            30,
            what="the second sweep waits on the first's notice row",
        )
        await first.commit()
    with pytest.raises(IntegrityError):
        await racing
    assert await _notices(services, request_id) == [("kela", "overdue", due.isoformat())]
    assert (await _steps(api, token, request_id)).count("overdue") == 1
