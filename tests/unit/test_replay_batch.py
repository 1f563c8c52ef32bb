"""Replaying parked records on the embedded SQLite store: a receipt of a new id, and Silta's own failures kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.crypto.ids import MessageIds
from broker.crypto.keyring import LiveKeyRing
from broker.domain.catalogue import RECEIPT
from broker.domain.clock import SystemClock
from broker.domain.dead_letters import ReplayOutcome
from broker.domain.errors import ErrorCode, Rejection
from broker.services.dead_letters import DeadLetters
from broker.services.inbound import InboundOutcome, InboundRecord, OrganiserRecordIntake, Replayed
from broker.services.party_keys import RecordSeals
from broker.services.receipts import ReceiptWriter, RecordPosition
from broker.services.replay_batch import ReplayBatch
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from broker.settings import Settings
from broker.store.tables import MessageRecord, ParkedRecord
from devinfra.samples import example_message
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KEY_DIR
from tests.support.sealed import register_party, sealed_record

PIPELINE = build_pipeline(Settings())
POSITION = RecordPosition("silta.from.hva-08.v1", 0, 7)


def _intake() -> OrganiserRecordIntake:
    return OrganiserRecordIntake(PIPELINE, ReceiptWriter(MessageIds(b"k" * 32)), RecordSeals(LiveKeyRing(KEY_DIR)))


class _BrokenReplay(OrganiserRecordIntake):
    """An intake whose replay fails with a bug of Silta's own."""

    async def replay(self, uow: UnitOfWork, record: InboundRecord, attempt: int) -> Replayed:
        raise RuntimeError("a bug")


async def _parked(sessions: async_sessionmaker[AsyncSession], message_id: str) -> int:
    """hva-08's record handled before its keys are registered: parked `key-unknown`; its id."""
    units = UnitOfWorkFactory(sessions, SystemClock(), lambda: None)
    async with units() as uow:
        record = sealed_record(example_message("decision-notice", message_id=message_id), POSITION)
        assert await _intake().handle(uow, record) is InboundOutcome.REJECTED
        await uow.commit()
    async with sessions() as session:
        return int(await session.scalar(select(ParkedRecord.id)) or 0)


async def test_a_replay_stores_the_message_with_a_receipt_of_its_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Parked, keys registered, replayed: the message is stored once, beside the first receipt and a new one."""
    message_id = "3f8e2a4c-1b6d-4e7f-9a0b-2c3d4e5f6a7b"
    record_id = await _parked(sessions, message_id)
    await register_party(sessions, "hva-08")
    batch = ReplayBatch(UnitOfWorkFactory(sessions, SystemClock(), lambda: None), DeadLetters(_intake()))
    assert (await batch.replay_one(record_id)).outcome is ReplayOutcome.DELIVERED
    assert (await batch.replay_one(record_id)).outcome is ReplayOutcome.SKIPPED
    async with sessions() as session:
        types = list(await session.scalars(select(MessageRecord.message_type).order_by(MessageRecord.accepted_at)))
        stored = await session.scalar(select(MessageRecord.message_id).where(MessageRecord.message_id == message_id))
    assert sorted(types) == sorted(["decision-notice", RECEIPT.name, RECEIPT.name])
    assert stored == message_id


async def test_a_replay_that_fails_with_a_bug_is_kept_as_internal_error_with_its_value(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The replay's own unit rolls back; a second notes `internal-error`, a reference and one more attempt."""
    record_id = await _parked(sessions, "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d")
    async with sessions() as session:
        value = await session.scalar(select(ParkedRecord.value))
    batch = ReplayBatch(
        UnitOfWorkFactory(sessions, SystemClock(), lambda: None),
        DeadLetters(_BrokenReplay(PIPELINE, ReceiptWriter(MessageIds(b"k" * 32)), RecordSeals(LiveKeyRing(KEY_DIR)))),
    )
    result = await batch.replay_one(record_id)
    assert (result.outcome, result.error_code) == (ReplayOutcome.PARKED_AGAIN, "internal-error")
    async with sessions() as session:
        row = await session.get(ParkedRecord, record_id)
    assert row is not None
    assert (row.error_code, row.attempts, row.value) == ("internal-error", 2, value)
    assert row.reference is not None
    assert row.reference in row.error_detail


async def test_an_unknown_id_is_parked_record_not_found(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Replaying an id that was never parked is the rejection `parked-record-not-found`."""
    batch = ReplayBatch(UnitOfWorkFactory(sessions, SystemClock(), lambda: None), DeadLetters(_intake()))
    with pytest.raises(Rejection) as refused:
        await batch.replay_one(424242)
    assert refused.value.code is ErrorCode.PARKED_RECORD_NOT_FOUND
