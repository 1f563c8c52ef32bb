"""A case system on the real broker: the same record delivered twice has its effect once."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.municipality.client import Delivery, InvalidRecord, OrganiserClient
from adapters.municipality.dedup import Outcome, ProcessedMessages, handle_once
from adapters.municipality.keys import OrganiserKeys
from adapters.municipality.listen import listen
from adapters.municipality.messages import ApplicationTransfer, SiltaMessage
from adapters.municipality.sender import outgoing, record_headers
from broker.crypto.keyring import KeyRing
from broker.crypto.sealing import seal
from broker.domain import headers as hdr
from broker.domain.parties import KELA
from broker.domain.topics import topic_to
from broker.kafka.publisher import durable_producer
from broker.settings import PROJECT_ROOT, Settings
from devinfra.kafka import LocalKafka
from entrypoints.bootstrap import compiled_schemas
from tests.conftest import KEY_DIR, PARTY_KEYS_DIR, party_keys, silta_keys
from tests.integration.kafka_helpers import end_offsets

pytestmark = pytest.mark.integration

_ORG = "hva-08"
_EXAMPLE_ID = b"71b00e7e-c3f4-5b0f-b856-799ae7364dc9"
_case_db = MetaData()
case_notes = Table("case_notes", _case_db, Column("message_id", String(64)))


def _status_update(message_id: str) -> bytes:
    document = (PROJECT_ROOT / "schemas/examples/valid/status-update.xml").read_bytes()
    assert _EXAMPLE_ID in document
    return document.replace(_EXAMPLE_ID, message_id.encode())


def _sealed_by_silta(document: bytes) -> tuple[list[tuple[str, bytes]], bytes, bytes]:
    """Headers, key and value of `document` as Silta's relay puts it on hva-08's topic."""
    described = outgoing(document, compiled_schemas(Settings().schema_dir.resolve()), KELA)
    headers = {**record_headers(KELA, described), hdr.RECIPIENT: _ORG}
    party_keys(_ORG)  # made once per run
    encryption = [k for k in OrganiserKeys.public(PARTY_KEYS_DIR, _ORG)["keys"] if k["use"] == "enc"][-1]
    sealed, value = seal(topic_to(_ORG), headers, document, OKPKey.import_key(encryption), KeyRing.load(KEY_DIR).signer)
    return [(name, text.encode()) for name, text in sealed.items()], described.case_id.encode(), value


async def _publish_twice(kafka: LocalKafka) -> str:
    """One new message sealed by Silta, published twice on hva-08's topic as a relay retry would; returns its id."""
    message_id = str(uuid.uuid4())
    headers, key, value = _sealed_by_silta(_status_update(message_id))
    producer = durable_producer(kafka.connection())
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait(topic_to(_ORG), value, key=key, headers=headers)
    finally:
        await producer.stop()
    return message_id


async def test_the_same_record_delivered_twice_has_one_effect(kafka_topics: LocalKafka, tmp_path: Path) -> None:
    """Silta's record published twice (a transport duplicate): the case system's handler runs once, both are acked."""
    message_id = await _publish_twice(kafka_topics)

    store = ProcessedMessages.sqlite(tmp_path / "case-system.db")
    await store.create()
    async with store.engine.begin() as db:
        await db.run_sync(_case_db.create_all)

    async def note(message: ApplicationTransfer | SiltaMessage, tx: AsyncConnection) -> None:
        await tx.execute(insert(case_notes).values(message_id=message.envelope.message_id))

    outcomes: list[Outcome] = []
    group = f"{_ORG}.test-{uuid.uuid4().hex}"
    bus = kafka_topics.connection(_ORG)
    try:
        async with (
            OrganiserClient(_ORG, bus, party_keys(_ORG), silta_keys(), group_id=group) as client,
            asyncio.timeout(60),
        ):
            async for delivery in client.deliveries():  # from the topic's start: other tests' records too
                outcome = await handle_once(client, store, delivery, note)
                if _id_of(delivery) == message_id:
                    outcomes.append(outcome)
                if len(outcomes) == 2:
                    break
        async with store.engine.connect() as db:
            effects = await db.scalar(select(func.count()).where(case_notes.c.message_id == message_id))
    finally:
        await store.close()
    assert outcomes == [Outcome.HANDLED, Outcome.DUPLICATE]
    assert effects == 1


def _id_of(delivery: Delivery) -> str | None:
    message = delivery.message
    return message.message_id if isinstance(message, InvalidRecord) else message.envelope.message_id


async def test_org_listen_with_a_processed_store_shows_the_repeat_as_a_duplicate(
    kafka_topics: LocalKafka, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silta org listen --processed-db`: the first delivery prints its type, the second `duplicate`."""
    message_id = await _publish_twice(kafka_topics)
    on_the_topic = sum((await end_offsets(kafka_topics, topic_to(_ORG))).values())
    store = ProcessedMessages.sqlite(tmp_path / "listen.db")
    await store.create()
    group = f"{_ORG}.test-{uuid.uuid4().hex}"
    try:
        async with asyncio.timeout(60):
            await listen(
                _ORG,
                kafka_topics.connection(_ORG),
                party_keys(_ORG),
                silta_keys(),
                group=group,
                max_messages=on_the_topic,
                processed=store,
            )
    finally:
        await store.close()
    lines = [line.split("\t") for line in capsys.readouterr().out.splitlines() if message_id in line]
    assert [line[0] for line in lines] == ["status-update", "duplicate"]
