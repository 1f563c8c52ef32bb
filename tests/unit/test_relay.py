"""The outbox relay with an in-memory publisher: nothing lost, nothing doubled, logs written once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.domain.clock import SystemClock
from broker.kafka.memory import InMemoryPublisher
from broker.kafka.publisher import PublishError
from broker.services import relay as relay_module
from broker.services.relay import OutboxRelay
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from broker.store.audit_log import verify_log
from broker.store.group_commit import GroupCommitter
from broker.store.tables import AuditEntry, MessageRecord
from devinfra.samples import application_transfer
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KELA
from tests.support.sealing import MarkingSealer

PIPELINE = build_pipeline(Settings())


async def _store(sessions: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    committer = GroupCommitter(sessions, max_batch=64)
    committer.start()
    messages = [PIPELINE.accept(application_transfer(str(uuid.uuid4()), case_id="C-1"), KELA) for _ in range(count)]
    for message in messages:
        await committer.save(message)
    await committer.stop()
    return [m.message_id for m in messages]


def _units(sessions: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(sessions, SystemClock(), lambda: None)


async def test_an_outage_loses_nothing_and_doubles_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Two failed attempts leave every row pending; the third publishes each record once, in order."""
    ids = await _store(sessions, 5)
    publisher = InMemoryPublisher(outages=2)
    relay = OutboxRelay(_units(sessions), publisher, MarkingSealer(), batch_size=100, poll_interval_s=0.1)
    for _ in range(2):
        with pytest.raises(PublishError):
            await relay.relay_once()
    async with sessions() as session:
        statuses = set(await session.scalars(select(MessageRecord.status)))
    assert statuses == {"accepted"}

    assert await relay.relay_once() == 5
    assert await relay.relay_once() == 0
    assert [r.headers["silta-message-id"] for r in publisher.records] == ids


async def test_logs_are_written_once_per_publication(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Failed attempts write no log entries; the publication writes 3 disclosures and 1 receipt per transfer."""
    await _store(sessions, 2)
    relay = OutboxRelay(
        _units(sessions), InMemoryPublisher(outages=1), MarkingSealer(), batch_size=100, poll_interval_s=0.1
    )
    with pytest.raises(PublishError):
        await relay.relay_once()
    await relay.relay_once()
    async with sessions() as session:
        counts = dict((await session.execute(select(AuditEntry.chain, func.count()).group_by(AuditEntry.chain))).all())
        assert counts == {"disclosure": 6, "receipt": 2}
        assert (await verify_log(session))[1] is None


async def test_records_go_out_sealed_and_wait_for_a_recipient_without_a_key(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every published record passed the sealer; a recipient with no key gets nothing until it has one."""
    monkeypatch.setattr(relay_module, "HELD_RECHECK_S", 0.0)  # look for the key again at once
    ids = await _store(sessions, 3)
    publisher = InMemoryPublisher()
    sealer = MarkingSealer(without_key=frozenset({"hva-90"}))
    relay = OutboxRelay(_units(sessions), publisher, sealer, batch_size=100, poll_interval_s=0.1)
    assert await relay.relay_once() == 0
    assert publisher.records == []
    sealer.without_key = frozenset()
    assert await relay.relay_once() == 3
    assert [r.headers["silta-message-id"] for r in publisher.records] == ids
    assert {r.headers["test-sealed"] for r in publisher.records} == {"yes"}


async def test_a_recipient_without_a_key_never_fills_every_batch(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Four held rows for hva-90 ahead of two for hva-08, batches of two: hva-08's still go out, in order."""
    held = await _store(sessions, 4)
    committer = GroupCommitter(sessions, max_batch=64)
    committer.start()
    others = [PIPELINE.accept(application_transfer(str(uuid.uuid4()), municipality="837"), KELA) for _ in range(2)]
    for message in others:
        await committer.save(message)
    await committer.stop()
    publisher = InMemoryPublisher()
    relay = OutboxRelay(
        _units(sessions), publisher, MarkingSealer(without_key=frozenset({"hva-90"})), batch_size=2, poll_interval_s=0.1
    )
    for _ in range(4):
        await relay.relay_once()
    assert [r.headers["silta-message-id"] for r in publisher.records] == [m.message_id for m in others]
    assert not {r.headers["silta-message-id"] for r in publisher.records} & set(held)
