"""Retention with a clock the test moves: bodies are kept for their period and emptied after it, with no sleep."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.domain.clock import ManualClock
from broker.kafka.memory import InMemoryPublisher
from broker.services.relay import OutboxRelay
from broker.services.retention import run_retention
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from broker.store.group_commit import GroupCommitter
from broker.store.tables import MessageRecord
from devinfra.samples import application_transfer
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KELA
from tests.support.sealing import MarkingSealer


async def test_a_body_is_kept_for_the_retention_period_and_emptied_after_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A transfer published today survives a run 89 days on and is emptied by a run 91 days on (90-day period)."""
    clock = ManualClock()
    units = UnitOfWorkFactory(sessions, clock, lambda: None)
    pipeline = build_pipeline(Settings(), clock)
    committer = GroupCommitter(sessions, 10)
    committer.start()
    message = pipeline.accept(application_transfer(str(uuid.uuid4())), KELA)
    await committer.save(message)
    await committer.stop()
    assert await OutboxRelay(units, InMemoryPublisher(), MarkingSealer(), 10, 0.1).relay_once() == 1

    for days_later, purged in ((89, 0), (91, 1)):
        clock.set(message.accepted_at + dt.timedelta(days=days_later))
        async with units() as uow:
            result = await run_retention(uow, days=90)
            await uow.commit()
        assert result.messages == purged
    async with sessions() as session:
        stored = await session.get(MessageRecord, message.message_id)
        assert stored is not None
        assert stored.purged_at is not None
        assert (await session.execute(select(MessageRecord.body))).scalar() in (b"", None)
