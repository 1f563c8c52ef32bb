"""Sealed records on the real bus: moved, unsigned, revoked, and Silta's keys rotated while a client reads."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select

from adapters.municipality.client import Delivery, InvalidRecord
from adapters.municipality.keys import SiltaKeys, SiltaKeySource
from adapters.municipality.messages import ApplicationTransfer, SiltaMessage
from broker.crypto.keyring import KeyRing, rotate
from broker.domain import headers as hdr
from broker.domain.topics import topic_from, topic_to
from broker.services.party_keys import PartyKeyRegistry
from broker.settings import Settings
from broker.store.tables import ParkedRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.conftest import KEY_DIR, party_keys
from tests.integration.both_ways import inbox_items, send_as_organiser
from tests.integration.kafka_helpers import collect
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The usual settings, but Silta's key ring a copy of this test's own, so that rotating it touches no other."""
    ring = tmp_path / "record-keys"
    shutil.copytree(KEY_DIR, ring)
    return settings.model_copy(update={"key_dir": ring})


def _silta_keys(settings: Settings) -> SiltaKeySource:
    return SiltaKeySource.fixed(SiltaKeys.from_jwks(KeyRing.load(settings.key_dir).jwks()))


def _transfer(message_id: str) -> bytes:
    """A transfer for a client in Tampere: it goes to hva-08."""
    return application_transfer(message_id, municipality="837")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}


async def _raw_records(kafka: LocalKafka, topic: str, message_id: str) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """The records on `topic` with this message id header, as the broker holds them (read as Silta)."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.connection().client_options(),
        group_id=f"silta-test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[tuple[bytes, list[tuple[str, bytes]]]] = []
    try:
        async with asyncio.timeout(30):
            await _read_into(consumer, message_id, found)
    finally:
        await consumer.stop()
    return found


async def _read_into(
    consumer: AIOKafkaConsumer[bytes, bytes], message_id: str, found: list[tuple[bytes, list[tuple[str, bytes]]]]
) -> None:
    wanted = (hdr.MESSAGE_ID, message_id.encode())
    while not found:
        for records in (await consumer.getmany(timeout_ms=2000)).values():
            found += [(r.value or b"", list(r.headers)) for r in records if wanted in r.headers]


async def test_a_record_copied_to_another_organisers_topic_is_refused_there(
    api: httpx.AsyncClient, kafka: LocalKafka, settings: Settings, token_for: Callable[..., str]
) -> None:
    """hva-08's sealed record, copied by someone with the broker's rights into hva-01's topic: hva-01 refuses it."""
    message_id = str(uuid.uuid4())
    answer = await api.post(
        "/kela/v1/messages", headers=_auth(token_for()), content=application_transfer(message_id, municipality="837")
    )
    assert answer.status_code == 202
    [delivery] = await collect(kafka, "hva-08", {message_id}, silta=_silta_keys(settings))
    assert isinstance(delivery.message, ApplicationTransfer)
    [(value, headers)] = await _raw_records(kafka, topic_to("hva-08"), message_id)
    producer = AIOKafkaProducer(**kafka.connection().client_options())
    await producer.start()
    try:
        await producer.send_and_wait(topic_to("hva-01"), value, key=b"copied", headers=headers)
    finally:
        await producer.stop()
    [copy] = await collect(kafka, "hva-01", {message_id}, silta=_silta_keys(settings))
    assert isinstance(copy.message, InvalidRecord)
    assert copy.message.rejection.code == "signature-invalid"


async def _receipt_code(kafka: LocalKafka, message_id: str) -> tuple[str | None, str | None]:
    [delivery] = await collect(kafka, "hva-08", {message_id}, by=_receipted)
    assert isinstance(delivery.message, SiltaMessage)
    return delivery.message.text("Outcome"), delivery.message.text("Errors/Error/Code")


def _receipted(delivery: Delivery) -> str | None:
    message = delivery.message
    return message.envelope.correlation_id if isinstance(message, SiltaMessage) else None


async def test_unsigned_and_revoked_records_are_receipted_parked_and_nothing_else_is_lost(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """A plain record: `signature-missing`; after hva-08's key is revoked, `key-revoked`; the good one between lands."""
    plain_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(**kafka.connection("hva-08").client_options())
    await producer.start()
    try:
        plain = b"<not-sealed/>"  # what it says does not matter: it is refused before it is read
        await producer.send_and_wait(
            topic_from("hva-08"), plain, key=b"K", headers=[("silta-message-id", plain_id.encode())]
        )
    finally:
        await producer.stop()
    good = await send_as_organiser(kafka, example_message("decision-notice", case_id="SEALED-GOOD"))
    await inbox_items(api, token_for(), {good.message_id})
    assert await _receipt_code(kafka, plain_id) == ("rejected", "signature-missing")
    async with services.services.units() as uow:
        assert await PartyKeyRegistry().revoke(uow, party_keys("hva-08").signer.key_id)
        await uow.commit()
    revoked = await send_as_organiser(kafka, example_message("decision-notice", case_id="SEALED-REVOKED"))
    assert await _receipt_code(kafka, revoked.message_id) == ("rejected", "key-revoked")
    async with services.sessions() as session:
        codes = sorted((await session.scalars(select(ParkedRecord.error_code))).all())
    assert codes == ["key-revoked", "signature-missing"]


async def test_silta_rotates_its_keys_while_an_organiser_reads_and_sends(
    api: httpx.AsyncClient, kafka: LocalKafka, settings: Settings, token_for: Callable[..., str]
) -> None:
    """Records signed before and after a rotation verify; a client with the keys of before still reaches Silta."""
    before = _silta_keys(settings)
    first = str(uuid.uuid4())
    await api.post(
        "/kela/v1/messages", headers=_auth(token_for()), content=application_transfer(first, municipality="837")
    )
    rotate(settings.key_dir, "signing")
    rotate(settings.key_dir, "encryption")
    expected = ["silta-encryption-1", "silta-encryption-2", "silta-signing-1", "silta-signing-2"]

    async def published_both() -> bool:  # the service looks at its ring at most once a second
        return sorted(k["kid"] for k in (await api.get("/.well-known/jwks.json")).json()["keys"]) == expected

    await wait_until(published_both, 10, what="the rotated keys published")
    published = (await api.get("/.well-known/jwks.json")).json()
    assert all("d" not in key for key in published["keys"])  # public halves only
    second = str(uuid.uuid4())
    await api.post(
        "/kela/v1/messages", headers=_auth(token_for()), content=application_transfer(second, municipality="837")
    )
    deliveries = await collect(
        kafka, "hva-08", {first, second}, silta=SiltaKeySource.fixed(SiltaKeys.from_jwks(published))
    )
    assert {type(d.message) for d in deliveries} == {ApplicationTransfer}
    assert {d.headers["silta-signature-key"] for d in deliveries} == {"silta-signing-1", "silta-signing-2"}
    stale = await send_as_organiser(kafka, example_message("decision-notice", case_id="SEALED-STALE"), silta=before)
    await inbox_items(api, token_for(), {stale.message_id})
