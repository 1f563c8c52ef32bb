"""Both ways on real Kafka and PostgreSQL: organisers → Kela's inbox, Kela → organisers, receipts and state."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from adapters.municipality.client import Delivery, InvalidRecord
from adapters.municipality.messages import SiltaMessage
from broker.crypto.ids import MessageIds
from broker.domain.catalogue import CATALOGUE, Direction
from broker.domain.clock import ManualClock
from broker.services.overdue import OverdueSweep
from broker.services.receipts import ReceiptWriter
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.store.retention import purge_parked
from broker.store.tables import AuditEntry, ParkedRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import EXAMPLE_ATTACHMENT, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.api_helpers import wait_for_status
from tests.integration.both_ways import inbox_items, post_as_kela, send_as_organiser
from tests.integration.kafka_helpers import collect, correlation_id, delivered_ids
from tests.support.databases import outbox_drained

pytestmark = pytest.mark.integration
CLIENT_MUNICIPALITY = "837"  # Tampere, served by hva-08


@pytest.fixture(autouse=True)
async def example_attachment_held(api: httpx.AsyncClient, token_for: Callable[..., str]) -> str:
    """The examples' manifests reference the fictitious PDF: Silta must hold it before they are sent."""
    answer = await api.post(
        "/kela/v1/attachments",
        content=EXAMPLE_ATTACHMENT.read_bytes(),
        headers={**_auth(token_for()), "Content-Type": "application/pdf"},
    )
    assert answer.status_code == 201, answer.text
    attachment_id: str = answer.json()["attachment_id"]
    return attachment_id


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _receipt_for(kafka: LocalKafka, message_id: str, org: str = "hva-08") -> SiltaMessage:
    """The technical receipt Silta sent to the organiser for one of its messages."""
    [delivery] = await collect(kafka, org, {message_id}, by=correlation_id)
    assert isinstance(delivery.message, SiltaMessage)
    assert delivery.message.message_type == "receipt"
    return delivery.message


async def test_decision_notice_reaches_kelas_inbox_and_kela_receipts_it(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Organiser → Kela: technical receipt, inbox listing, XML read (logged), business receipt, status."""
    document = example_message("decision-notice")
    sent = await send_as_organiser(kafka, document)
    receipt = await _receipt_for(kafka, sent.message_id)
    assert (receipt.text("Kind"), receipt.text("Outcome")) == ("technical", "accepted")
    assert receipt.envelope.sender == "silta"
    assert receipt.text("RemovedFields/Field/Path") == "Grounds"  # told what the filter kept from Kela

    token = token_for()
    [item] = await inbox_items(api, token, {sent.message_id})
    assert item["message_type"] == "decision-notice"
    assert item["href"] == f"/kela/v1/inbox/{sent.message_id}"
    body = await api.get(item["href"], headers=_auth(token))
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("application/xml")
    assert b"RelevanceAssertion" in body.content
    assert b"<Grounds>" not in body.content  # 18 b 3 mom: never to Kela
    async with services.sessions() as session:
        usages = (await session.execute(select(AuditEntry.payload).where(AuditEntry.chain == "usage"))).scalars()
        assert any(u.get("message_id") == sent.message_id for u in usages)

    answer = await api.post(f"{item['href']}/receipt", headers=_auth(token), json={"case_reference": "KELA-R-1"})
    assert answer.status_code == 200, answer.text
    receipt_id = answer.json()["receipt_id"]
    again = await api.post(f"{item['href']}/receipt", headers=_auth(token), json={"case_reference": "KELA-R-1"})
    assert again.json()["receipt_id"] == receipt_id
    [business] = await collect(kafka, "hva-08", {receipt_id})
    assert isinstance(business.message, SiltaMessage)
    assert business.message.text("Kind") == "business"
    assert business.message.text("ReceiverCaseReference") == "KELA-R-1"
    status = await wait_for_status(api, token, sent.message_id, "received")
    assert [step["status"] for step in status["history"]] == ["accepted", "published", "delivered", "received"]
    listing = await api.get("/kela/v1/inbox", headers=_auth(token))
    assert sent.message_id not in {i["message_id"] for i in listing.json()["items"]}


ORGANISER_SENT = sorted(
    (name, "" if t.direction is Direction.ORGANISER_TO_KELA else "from-hva-08")
    for name, t in CATALOGUE.items()
    if t.direction in (Direction.ORGANISER_TO_KELA, Direction.BOTH_WAYS) and t.answers is None
)


@pytest.mark.parametrize(("name", "variant"), ORGANISER_SENT)
async def test_each_organiser_type_reaches_kelas_inbox(
    name: str, variant: str, api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Every type an organiser may send on its own arrives in Kela's inbox, receipted as accepted."""
    sent = await send_as_organiser(kafka, example_message(name, variant=variant))
    [item] = await inbox_items(api, token_for(), {sent.message_id})
    assert item["message_type"] == name
    assert (await _receipt_for(kafka, sent.message_id)).text("Outcome") == "accepted"


KELA_SENT = sorted(
    name for name, t in CATALOGUE.items() if t.direction is not Direction.ORGANISER_TO_KELA and t.answers is None
)


@pytest.mark.parametrize("name", KELA_SENT)
async def test_each_kela_type_reaches_its_recipients_topic(
    name: str, api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Every type Kela may send on its own is routed to the organiser (or, for immigrants, the municipality)."""
    message_id = str(uuid.uuid4())
    document = example_message(name, message_id=message_id, municipality=CLIENT_MUNICIPALITY)
    answer = await post_as_kela(api, token_for(), document)
    assert answer.status_code == 202, answer.text
    recipient = "kunta-837" if CATALOGUE[name].direction is Direction.KELA_TO_MUNICIPALITY else "hva-08"
    [delivery] = await collect(kafka, recipient, {message_id})
    assert not isinstance(delivery.message, InvalidRecord)
    assert delivery.message.envelope.recipient == recipient


async def test_request_response_round_trip_and_a_second_answer_is_refused(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Kela asks, the organiser answers: the request is answered; answering again is rejected as such."""
    token = token_for()
    request_id = str(uuid.uuid4())
    assert (await post_as_kela(api, token, example_message("information-request", message_id=request_id))).is_success
    await collect(kafka, "hva-08", {request_id})
    response = example_message("information-response", variant="from-hva-08", correlation_id=request_id)
    sent = await send_as_organiser(kafka, response)
    assert (await _receipt_for(kafka, sent.message_id)).text("Outcome") == "accepted"
    await inbox_items(api, token, {sent.message_id})
    status = await wait_for_status(api, token, request_id, "answered")
    assert status["due_date"] == "2099-03-21"
    assert status["history"][-1]["by_message_id"] == sent.message_id

    second = await send_as_organiser(
        kafka, example_message("information-response", variant="from-hva-08", correlation_id=request_id)
    )
    refused = await _receipt_for(kafka, second.message_id)
    assert refused.text("Outcome") == "rejected"
    assert refused.text("Errors/Error/Code") == "request-already-answered"


async def test_a_cancelled_request_refuses_its_response(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Kela cancels its request; the organiser sees the cancellation and its late response is rejected."""
    token = token_for()
    request_id, cancel_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert (await post_as_kela(api, token, example_message("information-request", message_id=request_id))).is_success
    cancellation = example_message("information-request-cancellation", message_id=cancel_id, correlation_id=request_id)
    assert (await post_as_kela(api, token, cancellation)).is_success
    delivered = await collect(kafka, "hva-08", {request_id, cancel_id})
    assert delivered_ids(delivered) == [request_id, cancel_id]  # one case, one key: kept in order
    late = await send_as_organiser(
        kafka, example_message("information-response", variant="from-hva-08", correlation_id=request_id)
    )
    assert (await _receipt_for(kafka, late.message_id)).text("Errors/Error/Code") == "request-cancelled"


@pytest.mark.usefixtures("api")  # the running app consumes the organiser's topic
async def test_an_answer_to_an_unknown_message_is_rejected(kafka: LocalKafka) -> None:
    """A response naming a message Silta never carried gets a rejected receipt saying so."""
    orphan = example_message("information-response", variant="from-hva-08", correlation_id=str(uuid.uuid4()))
    sent = await send_as_organiser(kafka, orphan)
    receipt = await _receipt_for(kafka, sent.message_id)
    assert (receipt.text("Outcome"), receipt.text("Errors/Error/Code")) == ("rejected", "correlation-unknown")


async def test_kela_cannot_answer_a_request_it_sent_itself(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """REST: Kela's response to Kela's own request is refused with correlation-wrong-party (RFC 9457)."""
    token = token_for()
    request_id = str(uuid.uuid4())
    assert (await post_as_kela(api, token, example_message("information-request", message_id=request_id))).is_success
    answer = await post_as_kela(api, token, example_message("information-response", correlation_id=request_id))
    assert answer.status_code == 403
    assert answer.json()["code"] == "correlation-wrong-party"


async def test_transfer_return_marks_the_transfer_returned(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """The organiser returns a transferred application with a reason code: the transfer shows `returned`."""
    token = token_for()
    transfer_id = str(uuid.uuid4())
    transfer = example_message("application-transfer", message_id=transfer_id, municipality=CLIENT_MUNICIPALITY)
    assert (await post_as_kela(api, token, transfer)).is_success
    await collect(kafka, "hva-08", {transfer_id})
    sent = await send_as_organiser(kafka, example_message("transfer-return", correlation_id=transfer_id))
    [item] = await inbox_items(api, token, {sent.message_id})
    assert item["message_type"] == "transfer-return"
    await wait_for_status(api, token, transfer_id, "returned")


@pytest.mark.usefixtures("api")  # the running app consumes the organiser's topic
async def test_a_record_claiming_another_sender_is_rejected(kafka: LocalKafka) -> None:
    """hva-08's document on hva-06's topic: rejected as sender-not-topic-owner, receipted to hva-06."""
    sent = await send_as_organiser(kafka, example_message("decision-notice"), org="hva-06", check=False)
    position = f"silta.from.hva-06.v1/{sent.partition}/{sent.offset}"
    [delivery] = await collect(kafka, "hva-06", {position}, by=_position)
    assert isinstance(delivery.message, SiltaMessage)
    assert delivery.message.text("Errors/Error/Code") == "sender-not-topic-owner"


async def test_a_malformed_record_is_receipted_parked_and_the_partition_moves_on(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """A record that is not XML is receipted as rejected and parked; the good record after it arrives."""
    bad = await send_as_organiser(kafka, b"<DecisionNotice><unclosed>", check=False)
    good = await send_as_organiser(kafka, example_message("decision-notice", case_id="unchecked-case"))
    assert bad.partition == good.partition  # same key: the good one waits behind the bad one
    await inbox_items(api, token_for(), {good.message_id})
    position = f"silta.from.hva-08.v1/{bad.partition}/{bad.offset}"
    [delivery] = await collect(kafka, "hva-08", {position}, by=_position)
    assert isinstance(delivery.message, SiltaMessage)
    assert delivery.message.text("Errors/Error/Code") == "xml-not-well-formed"
    async with services.sessions() as session:
        parked = (await session.execute(select(ParkedRecord).where(ParkedRecord.kafka_offset == bad.offset))).scalars()
        assert [p.error_code for p in parked if p.topic == "silta.from.hva-08.v1"] == ["xml-not-well-formed"]
    async with services.sessions() as session, session.begin():  # retention empties the parked value
        assert await purge_parked(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)) >= 1
        values = await session.execute(select(ParkedRecord.value).where(ParkedRecord.kafka_offset == bad.offset))
        assert set(values.scalars()) == {None}


def _position(delivery: Delivery) -> str | None:
    """The `silta-receipted-position` a receipt names, read from the receipt's headers."""
    return delivery.headers.get("silta-receipted-position")


async def test_an_unanswered_request_past_its_due_date_is_flagged_overdue_and_the_organiser_told(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str], database_url: str
) -> None:
    """The organiser's request (due 2025-03-21) is not answered: overdue in its status, notice on its topic."""
    example = example_message("information-request", variant="from-hva-08")  # due 2099-03-21: never overdue
    past_due = example.replace(b"<DueDate>2099-03-21</DueDate>", b"<DueDate>2025-03-21</DueDate>")
    sent = await send_as_organiser(kafka, past_due)
    await inbox_items(api, token_for(), {sent.message_id})
    assert sent.message_id in await services.overdue.check_once()
    assert sent.message_id not in await services.overdue.check_once()  # flagged once
    status = await api.get(f"/kela/v1/messages/{sent.message_id}", headers=_auth(token_for()))
    assert status.json()["overdue"] is True
    quiet = outbox_drained(database_url)
    notices = await collect(kafka, "hva-08", {sent.message_id}, by=correlation_id, until_quiet=quiet)
    outcomes = sorted(str(d.message.text("Outcome")) for d in notices if isinstance(d.message, SiltaMessage))
    assert outcomes == ["accepted", "overdue"]


async def test_a_message_without_a_business_receipt_in_time_is_flagged(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Kela's notice that nobody receipted within the receipt timeout shows as overdue in its status."""
    message_id = str(uuid.uuid4())
    document = example_message("unemployment-notice", message_id=message_id, municipality=CLIENT_MUNICIPALITY)
    assert (await post_as_kela(api, token_for(), document)).is_success
    await wait_for_status(api, token_for(), message_id, "published")
    clock = ManualClock()
    units = UnitOfWorkFactory(services.sessions, clock, lambda: None)
    sweep = OverdueSweep(ReceiptWriter(MessageIds(b"k" * 32)), dt.timedelta(hours=24))
    async with units() as uow:
        soon = await sweep.run(uow)
        await uow.commit()
    clock.advance(dt.timedelta(hours=25))
    async with units() as uow:
        flagged = await sweep.run(uow)
        await uow.commit()
    assert message_id not in soon
    assert message_id in flagged
    status = await api.get(f"/kela/v1/messages/{message_id}", headers=_auth(token_for()))
    assert status.json()["history"][-1]["status"] == "overdue"


@pytest.mark.parametrize("name", ["information-request-reminder", "information-request-cancellation"])
async def test_kela_follows_up_its_request_and_the_organiser_its_own(
    name: str, api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """A reminder or cancellation travels from the requester to the requestee, in both directions."""
    token = token_for()
    kela_request = str(uuid.uuid4())
    assert (await post_as_kela(api, token, example_message("information-request", message_id=kela_request))).is_success
    follow_up = str(uuid.uuid4())
    document = example_message(name, message_id=follow_up, correlation_id=kela_request)
    assert (await post_as_kela(api, token, document)).status_code == 202
    [delivery] = await collect(kafka, "hva-08", {follow_up})
    assert isinstance(delivery.message, SiltaMessage)
    assert delivery.message.envelope.correlation_id == kela_request

    own = await send_as_organiser(kafka, example_message("information-request", variant="from-hva-08"))
    sent = await send_as_organiser(kafka, example_message(name, variant="from-hva-08", correlation_id=own.message_id))
    [item] = await inbox_items(api, token, {sent.message_id})
    assert item["message_type"] == name


async def test_receipts_travel_both_ways(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """The organiser's business receipt of Kela's message reaches Kela's inbox and marks it received."""
    token = token_for()
    notice = str(uuid.uuid4())
    document = example_message("basic-decision-notice", message_id=notice, municipality=CLIENT_MUNICIPALITY)
    assert (await post_as_kela(api, token, document)).is_success
    await collect(kafka, "hva-08", {notice})
    sent = await send_as_organiser(kafka, example_message("receipt", variant="from-hva-08", correlation_id=notice))
    [item] = await inbox_items(api, token, {sent.message_id})
    assert item["message_type"] == "receipt"
    await wait_for_status(api, token, notice, "received")


async def test_two_answers_to_one_request_at_once_store_one(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Kela answers the organiser's request twice at the same moment: one 202, one request-already-answered."""
    own = await send_as_organiser(kafka, example_message("information-request", variant="from-hva-08"))
    await inbox_items(api, token_for(), {own.message_id})
    answers = [example_message("information-response", correlation_id=own.message_id) for _ in range(2)]
    results = await asyncio.gather(*(post_as_kela(api, token_for(), answer) for answer in answers))
    assert sorted(r.status_code for r in results) == [202, 409]
    refused = next(r for r in results if r.status_code == 409)
    assert refused.json()["code"] == "request-already-answered"
    winner = answers[[r.status_code for r in results].index(202)]
    again = await post_as_kela(api, token_for(), winner)  # the same answer again is a duplicate, not a second
    assert again.status_code == 202


async def test_an_answer_to_a_message_of_the_wrong_type_is_refused(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Kela's response naming the organiser's decision notice (not a request): 422 correlation-wrong-type."""
    notice = await send_as_organiser(kafka, example_message("decision-notice"))
    await inbox_items(api, token_for(), {notice.message_id})
    answer = await post_as_kela(
        api, token_for(), example_message("information-response", correlation_id=notice.message_id)
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "correlation-wrong-type")
    assert answer.json()["errors"][0]["path"].endswith("/Envelope/CorrelationId")


@pytest.mark.parametrize(
    ("params", "expected", "path"),
    [({"after": "abc"}, (400, "cursor-invalid"), None), ({"limit": "0"}, (422, "request-invalid"), "/query/limit")],
    ids=["cursor-not-given-out", "limit-zero"],
)
async def test_inbox_parameters_are_checked(
    params: dict[str, str],
    expected: tuple[int, str],
    path: str | None,
    api: httpx.AsyncClient,
    token_for: Callable[..., str],
) -> None:
    """A cursor Silta never gave out (400), or a limit outside 1-500 (422): each with its own code."""
    answer = await api.get("/kela/v1/inbox", params=params, headers=_auth(token_for()))
    assert (answer.status_code, answer.json()["code"]) == expected
    if path is not None:
        assert [e["path"] for e in answer.json()["errors"]] == [path]


async def test_a_message_not_in_the_callers_inbox_is_not_found(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Kela's own outgoing message is not in its inbox: reading or receipting it is 404 message-not-found."""
    message_id = str(uuid.uuid4())
    document = example_message("unemployment-notice", message_id=message_id, municipality=CLIENT_MUNICIPALITY)
    assert (await post_as_kela(api, token_for(), document)).status_code == 202
    for answer in (
        await api.get(f"/kela/v1/inbox/{message_id}", headers=_auth(token_for())),
        await api.post(f"/kela/v1/inbox/{message_id}/receipt", headers=_auth(token_for())),
    ):
        assert (answer.status_code, answer.json()["code"]) == (404, "message-not-found")


async def test_a_reminder_with_a_new_due_date_moves_the_request_and_its_overdue_watch(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """An overdue request is reminded with a due date ahead: the date, the status and the watch all follow it."""
    token = token_for()
    past_due = example_message("information-request", variant="from-hva-08").replace(
        b"<DueDate>2099-03-21</DueDate>", b"<DueDate>2025-03-21</DueDate>"
    )
    request = await send_as_organiser(kafka, past_due)
    await inbox_items(api, token, {request.message_id})
    assert request.message_id in await services.overdue.check_once()
    reminder = example_message(
        "information-request-reminder", variant="from-hva-08", correlation_id=request.message_id
    ).replace(b"<NewDueDate>2099-03-28</NewDueDate>", b"<NewDueDate>2099-12-31</NewDueDate>")
    reminded = await send_as_organiser(kafka, reminder)
    await inbox_items(api, token, {reminded.message_id})
    status = (await api.get(f"/kela/v1/messages/{request.message_id}", headers=_auth(token))).json()
    assert status["due_date"] == "2099-12-31"
    assert status["overdue"] is False
    assert [s["status"] for s in status["history"]][-2:] == ["overdue", "reminded"]
    assert request.message_id not in await services.overdue.check_once()


async def test_a_second_return_of_a_returned_transfer_is_refused(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """A transfer returned once is closed: another return is receipted as rejected with transition-illegal."""
    token = token_for()
    transfer_id = str(uuid.uuid4())
    transfer = example_message("application-transfer", message_id=transfer_id, municipality=CLIENT_MUNICIPALITY)
    assert (await post_as_kela(api, token, transfer)).is_success
    await collect(kafka, "hva-08", {transfer_id})
    first = await send_as_organiser(kafka, example_message("transfer-return", correlation_id=transfer_id))
    await inbox_items(api, token, {first.message_id})
    await wait_for_status(api, token, transfer_id, "returned")
    again = await send_as_organiser(kafka, example_message("transfer-return", correlation_id=transfer_id))
    position = f"silta.from.hva-08.v1/{again.partition}/{again.offset}"
    [receipt] = await collect(kafka, "hva-08", {position}, by=_position)
    assert isinstance(receipt.message, SiltaMessage)
    assert receipt.message.text("Errors/Error/Code") == "transition-illegal"
