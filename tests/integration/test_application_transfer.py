"""An application transfer from Kela's REST API to the organiser's topic, on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from adapters.municipality.client import InvalidRecord
from adapters.municipality.messages import ApplicationTransfer
from broker.store.tables import MessageRecord, OutboxRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer
from entrypoints.bootstrap import Runtime
from tests.conftest import KELA
from tests.integration.api_helpers import wait_for_status
from tests.integration.kafka_helpers import collect, delivered_ids
from tests.support.databases import outbox_drained

pytestmark = pytest.mark.integration
XML = {"Content-Type": "application/xml"}


def _headers(token: str) -> dict[str, str]:
    return {**XML, "Authorization": f"Bearer {token}"}


async def test_transfer_reaches_the_right_topic_with_key_and_headers(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """POST → 202 → one record on silta.to.hva-08.v1, keyed by case id, consumed as a typed message."""
    message_id = str(uuid.uuid4())
    answer = await api.post(
        "/kela/v1/messages",
        headers=_headers(token_for()),
        content=application_transfer(message_id, case_id="KELA-T-1", municipality="837"),
    )
    assert answer.status_code == 202
    assert answer.json() == {"message_id": message_id, "status_url": f"/kela/v1/messages/{message_id}"}

    [delivery] = await collect(kafka, "hva-08", {message_id})
    assert delivery.key == "KELA-T-1"
    assert isinstance(delivery.message, ApplicationTransfer)
    assert delivery.message.envelope.recipient == "hva-08"
    assert delivery.message.home_municipality == "837"
    assert [c.category for c in delivery.message.cost_items] == ["childrens-hobbies", "moving"]
    status = await wait_for_status(api, token_for(), message_id, "published")
    assert status["recipient"] == "hva-08"
    assert status["published_at"] is not None


async def test_record_headers_on_the_wire(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """The raw Kafka record carries id, type, schema and sender headers, and no identity code in its key."""
    message_id = str(uuid.uuid4())
    await api.post(
        "/kela/v1/messages",
        headers=_headers(token_for()),
        content=application_transfer(message_id, case_id="KELA-RAW-1"),
    )
    consumer = AIOKafkaConsumer(
        "silta.to.hva-90.v1",
        **kafka.connection().client_options(),
        group_id=f"raw-{message_id}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            async for record in consumer:
                headers = {k: v.decode() for k, v in record.headers}
                if headers.get("silta-message-id") == message_id:
                    break
    finally:
        await consumer.stop()
    assert headers["silta-message-type"] == "application-transfer"
    assert headers["silta-schema"] == "urn:fi:silta:application-transfer:1#1.0"
    assert headers["silta-sender"] == "kela"
    assert record.key == b"KELA-RAW-1"


async def test_the_same_post_twice_gives_the_same_answer_and_one_record(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str], database_url: str
) -> None:
    """Idempotency on the message id: the identical document again → same 202, no second record."""
    message_id = str(uuid.uuid4())
    document = application_transfer(message_id)
    first = await api.post("/kela/v1/messages", headers=_headers(token_for()), content=document)
    second = await api.post("/kela/v1/messages", headers=_headers(token_for()), content=document)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json() == second.json()
    deliveries = await collect(kafka, "hva-90", {message_id}, until_quiet=outbox_drained(database_url))
    assert len(deliveries) == 1


async def test_concurrent_identical_posts_store_one_message(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str], database_url: str
) -> None:
    """Ten identical posts at once (one commit batch) still give one record."""
    message_id = str(uuid.uuid4())
    document = application_transfer(message_id)
    answers = await asyncio.gather(
        *(api.post("/kela/v1/messages", headers=_headers(token_for()), content=document) for _ in range(10))
    )
    assert {a.status_code for a in answers} == {202}
    quiet = outbox_drained(database_url)
    assert len(await collect(kafka, "hva-90", {message_id}, until_quiet=quiet)) == 1


async def test_same_id_other_content_is_a_conflict(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """409 message-id-conflict when a known id comes back with different content."""
    message_id = str(uuid.uuid4())
    await api.post(
        "/kela/v1/messages", headers=_headers(token_for()), content=application_transfer(message_id, case_id="A-1")
    )
    answer = await api.post(
        "/kela/v1/messages", headers=_headers(token_for()), content=application_transfer(message_id, case_id="A-2")
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "message-id-conflict"


async def test_many_messages_about_one_case_keep_their_order(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Per-case order: records with one case id arrive in the order they were accepted."""
    ids = [str(uuid.uuid4()) for _ in range(20)]
    for message_id in ids:
        answer = await api.post(
            "/kela/v1/messages",
            headers=_headers(token_for()),
            content=application_transfer(message_id, case_id="ORDER-1", municipality="853"),
        )
        assert answer.status_code == 202
    deliveries = await collect(kafka, "hva-05", set(ids))
    arrived = [d.message.envelope.message_id for d in deliveries if isinstance(d.message, ApplicationTransfer)]
    assert arrived == ids


async def test_ready_when_database_and_kafka_answer(api: httpx.AsyncClient) -> None:
    """/health/ready reports both dependencies and that no organiser's partition is stuck."""
    answer = await api.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": True, "kafka": True, "inbound": True},
        "stalled_partitions": [],
    }


async def test_status_of_an_unknown_message_is_404(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An id nobody sent is message-not-found."""
    answer = await api.get(f"/kela/v1/messages/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token_for()}"})
    assert answer.status_code == 404
    assert answer.json()["code"] == "message-not-found"


async def test_status_is_not_shown_to_another_party(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An organiser that neither sent nor receives a message cannot see it; the answer is the same 404."""
    message_id = str(uuid.uuid4())
    await api.post("/kela/v1/messages", headers=_headers(token_for()), content=application_transfer(message_id))
    answer = await api.get(
        f"/kela/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token_for('hva-08-case-system')}"}
    )
    assert answer.status_code == 404


async def test_group_commit_stores_every_message_once(services: Runtime) -> None:
    """Many concurrent saves share commits, and every message is stored exactly once."""
    messages = [services.pipeline.accept(application_transfer(), KELA) for _ in range(300)]
    outcomes = await asyncio.gather(*(services.committer.save(m) for m in messages))
    assert {str(o) for o in outcomes} == {"stored"}
    async with services.sessions() as session:
        ids = [m.message_id for m in messages]
        stored = await session.scalar(
            select(func.count()).select_from(MessageRecord).where(MessageRecord.message_id.in_(ids))
        )
        outbox = await session.scalar(
            select(func.count()).select_from(OutboxRecord).where(OutboxRecord.message_id.in_(ids))
        )
    assert (stored, outbox) == (300, 300)


async def test_the_organiser_client_verifies_silta_signatures(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """A real record opens; one written to the topic with Silta's credentials but not its key is signature-invalid."""
    genuine, forged = str(uuid.uuid4()), str(uuid.uuid4())
    await api.post("/kela/v1/messages", headers=_headers(token_for()), content=application_transfer(genuine))
    producer = AIOKafkaProducer(**kafka.connection().client_options())
    await producer.start()
    try:
        headers = [
            ("silta-message-id", forged.encode()),
            ("silta-signature", b"AAAA"),
            ("silta-signature-key", b"silta-signing-1"),
        ]
        await producer.send_and_wait("silta.to.hva-90.v1", b"forged: not sealed", key=b"X", headers=headers)
    finally:
        await producer.stop()
    deliveries = await collect(kafka, "hva-90", {genuine, forged})
    by_id = {delivered_ids([d])[0]: d.message for d in deliveries}
    assert isinstance(by_id[genuine], ApplicationTransfer)
    rejected = by_id[forged]
    assert isinstance(rejected, InvalidRecord)
    assert rejected.rejection.code == "signature-invalid"
