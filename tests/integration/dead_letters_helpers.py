"""Parking a record on purpose: hva-08's signing key forgotten, a record sent, its parked row awaited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.municipality.sender import Outgoing, SentMessage
from broker.store.tables import ParkedRecord, PartyKey
from devinfra.kafka import LocalKafka
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import send_as_organiser
from tests.support.sealed import from_topic, register_party, sealed_record
from tests.support.waiting import wait_until

ORG = "hva-08"


async def forget_signing_keys(services: Runtime, org: str = ORG) -> None:
    """Unregister `org`'s signing keys in this test's database: its records are parked as `key-unknown`."""
    async with services.sessions() as session:
        await session.execute(delete(PartyKey).where(PartyKey.party == org, PartyKey.use == "sig"))
        await session.commit()


async def register_again(services: Runtime, org: str = ORG) -> None:
    """Register `org`'s keys again, as an operator does once the organiser's supplier sends them."""
    await register_party(services.sessions, org)


async def parked_row(services: Runtime, sent: SentMessage) -> ParkedRecord:
    """The parked row of a sent record, once the consumer has parked it."""
    found: ParkedRecord | None = None

    async def parked() -> bool:
        nonlocal found
        async with services.sessions() as session:
            found = await session.scalar(
                select(ParkedRecord).where(
                    ParkedRecord.topic == sent.topic,
                    ParkedRecord.kafka_partition == sent.partition,
                    ParkedRecord.kafka_offset == sent.offset,
                )
            )
        return found is not None

    await wait_until(parked, 60, interval_s=0.1, what=f"record {sent.message_id} parked")
    assert found is not None
    return found


async def park(services: Runtime, kafka: LocalKafka, document: bytes, *, check: bool = True) -> ParkedRecord:
    """Send `document` as hva-08 while its key is unknown; its parked row (the key registered again after)."""
    await forget_signing_keys(services)
    sent = await send_as_organiser(kafka, document, check=check)
    row = await parked_row(services, sent)
    assert row.error_code == "key-unknown"
    return row


async def park_directly(sessions: async_sessionmaker[AsyncSession], document: bytes, offset: int) -> int:
    """A sealed hva-08 record parked as `key-unknown` (as if its key had not been registered yet); its id.

    A document that is not XML is sealed unchecked, as a faulty case system would send it.
    """
    described = None if document.startswith(b"<?xml") else Outgoing("unchecked", "unchecked", "unchecked-case")
    record = sealed_record(document, from_topic(ORG, 0, offset), described=described)
    async with sessions() as session:
        inserted = await session.execute(
            insert(ParkedRecord)
            .values(
                topic=record.position.topic,
                kafka_partition=0,
                kafka_offset=offset,
                error_code="key-unknown",
                error_detail=f"not a registered signing key of {ORG}",
                attempts=1,
                value=record.value,
                headers=record.headers,
                parked_at=dt.datetime.now(dt.UTC),
            )
            .returning(ParkedRecord.id)
        )
        record_id = int(inserted.scalar_one())
        await session.commit()
    return record_id
