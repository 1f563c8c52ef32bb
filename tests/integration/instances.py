"""Helpers for tests of several service instances on one PostgreSQL: an engine each, messages stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from broker.domain.accepted import OutboundRecord
from broker.domain.clock import Clock, SystemClock
from broker.kafka.memory import InMemoryPublisher
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from broker.store.group_commit import GroupCommitter
from devinfra.samples import application_transfer
from entrypoints.bootstrap import build_pipeline
from tests.conftest import KELA

PIPELINE = build_pipeline(Settings())


@asynccontextmanager
async def instance_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """One instance's view of the shared database: an engine (and connection pool) of its own."""
    engine = create_async_engine(database_url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


def units_of(
    sessions: async_sessionmaker[AsyncSession], on_outbox: Callable[[], None] = lambda: None, clock: Clock | None = None
) -> UnitOfWorkFactory:
    """Units of work on one instance's engine."""
    return UnitOfWorkFactory(sessions, clock or SystemClock(), on_outbox)


async def store_transfers(
    sessions: async_sessionmaker[AsyncSession], cases: Sequence[str], on_commit: Callable[[], None] = lambda: None
) -> list[str]:
    """One application transfer per entry of `cases` (its case id), saved in that order; their message ids."""
    committer = GroupCommitter(sessions, max_batch=64, on_commit=on_commit)
    committer.start()
    messages = [PIPELINE.accept(application_transfer(str(uuid.uuid4()), case_id=case), KELA) for case in cases]
    for message in messages:
        await committer.save(message)
    await committer.stop()
    return [m.message_id for m in messages]


class SharedLogPublisher(InMemoryPublisher):
    """One instance's in-memory publisher that also appends to a log shared by all instances (the "topic")."""

    def __init__(self, shared: list[OutboundRecord]) -> None:
        super().__init__()
        self._shared = shared

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        """Keep the records in this publisher's list and, in the same order, in the shared log."""
        await super().publish(records)
        self._shared.extend(records)
