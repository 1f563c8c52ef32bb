"""An organiser's record through the intake use case, on a real SQLite store: receipts, parking, re-reads."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.municipality.sender import Outgoing
from broker.crypto.ids import MessageIds
from broker.crypto.keyring import LiveKeyRing
from broker.domain.clock import SystemClock
from broker.services.inbound import InboundOutcome, InboundRecord, OrganiserRecordIntake
from broker.services.party_keys import RecordSeals
from broker.services.receipts import ReceiptWriter, RecordPosition
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from broker.store.tables import MessageRecord, OutboxRecord, ParkedRecord
from devinfra.samples import example_message
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KEY_DIR
from tests.support.sealed import register_party, sealed_record

PIPELINE = build_pipeline(Settings())
TOPIC = "silta.from.hva-08.v1"


@pytest.fixture
async def intake(sessions: async_sessionmaker[AsyncSession]) -> OrganiserRecordIntake:
    """The use case as the composition root builds it, with hva-08's keys registered."""
    await register_party(sessions, "hva-08")
    seals = RecordSeals(LiveKeyRing(KEY_DIR))
    return OrganiserRecordIntake(PIPELINE, ReceiptWriter(MessageIds(b"k" * 32)), seals)


async def _handle(
    sessions: async_sessionmaker[AsyncSession], intake: OrganiserRecordIntake, record: InboundRecord
) -> InboundOutcome:
    units = UnitOfWorkFactory(sessions, SystemClock(), lambda: None)
    async with units() as uow:
        outcome = await intake.handle(uow, record)
        await uow.commit()
    return outcome


async def test_a_record_read_again_after_a_crash_is_recognised_and_nothing_is_stored_twice(
    sessions: async_sessionmaker[AsyncSession], intake: OrganiserRecordIntake
) -> None:
    """The same position again is `already-handled`; the same message at a new position a duplicate with a receipt."""
    document = example_message("decision-notice")
    first = sealed_record(document, RecordPosition(TOPIC, 0, 1))
    assert await _handle(sessions, intake, first) is InboundOutcome.ACCEPTED
    assert await _handle(sessions, intake, first) is InboundOutcome.ALREADY_HANDLED
    assert await _handle(sessions, intake, sealed_record(document, RecordPosition(TOPIC, 0, 2))) is (
        InboundOutcome.DUPLICATE
    )
    async with sessions() as session:
        types = sorted((await session.scalars(select(MessageRecord.message_type))).all())
        assert types == ["decision-notice", "receipt", "receipt"]
        assert len((await session.scalars(select(OutboxRecord.id))).all()) == 3


async def test_a_mistyped_identity_code_as_case_id_never_becomes_the_receipts_record_key(
    sessions: async_sessionmaker[AsyncSession], intake: OrganiserRecordIntake
) -> None:
    """`010190-923B` has a wrong check character but the shape of a code: the rejection receipt is keyed neutrally."""
    broken = b"<DecisionNotice><CaseId>010190-923B</CaseId><unclosed>"
    unparsed = Outgoing("0b9a4c1e-8f7d-4e6a-9b2c-3d4e5f6a7b8c", "decision-notice", "unknown")
    record = sealed_record(broken, RecordPosition(TOPIC, 1, 7), described=unparsed)
    assert await _handle(sessions, intake, record) is InboundOutcome.REJECTED
    async with sessions() as session:
        keys = (await session.scalars(select(OutboxRecord.record_key))).all()
        parked = (await session.scalars(select(ParkedRecord))).one()
    assert keys == ["silta-receipt"]
    assert (parked.error_code, parked.attempts, parked.kafka_offset) == ("xml-not-well-formed", 1, 7)
    assert parked.parked_at.tzinfo is not None  # read back from SQLite in UTC
    assert parked.parked_at <= dt.datetime.now(dt.UTC)
