"""Retention of kept REST rejections, with a clock the test moves: kept for the period, deleted after it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.domain.clock import ManualClock
from broker.domain.dead_letters import RestRejectionFacts
from broker.services.retention import run_retention
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.store.parked import insert_rest_rejection
from broker.store.tables import RestRejection

_START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _facts(code: str) -> RestRejectionFacts:
    return RestRejectionFacts("kela", "kela", "POST", "/kela/v1/messages", code, 400, 10, "ab" * 32, None)


async def _keep(units: UnitOfWorkFactory, code: str) -> None:
    async with units() as uow:
        await insert_rest_rejection(uow.session, _facts(code), uow.now)
        await uow.commit()


async def _kept_codes(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(RestRejection.error_code).order_by(RestRejection.id)))


async def test_a_rest_rejection_is_kept_for_the_retention_period_and_deleted_after_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """With a 90-day period, a rejection 91 days old is deleted and counted; one 89 days old stays."""
    clock = ManualClock(_START)
    units = UnitOfWorkFactory(sessions, clock, lambda: None)
    await _keep(units, "xml-malformed")
    clock.advance(dt.timedelta(days=2))
    await _keep(units, "schema-invalid")

    clock.set(_START + dt.timedelta(days=91))
    async with units() as uow:
        result = await run_retention(uow, days=90)
        await uow.commit()

    assert result.rejections == 1
    assert await _kept_codes(sessions) == ["schema-invalid"]


async def test_a_second_run_on_the_same_day_deletes_nothing_more(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Retention of rejections is idempotent: a run right after another finds nothing left to delete."""
    clock = ManualClock(_START)
    units = UnitOfWorkFactory(sessions, clock, lambda: None)
    await _keep(units, "xml-malformed")
    clock.advance(dt.timedelta(days=100))
    counts = []
    for _ in range(2):
        async with units() as uow:
            counts.append((await run_retention(uow, days=90)).rejections)
            await uow.commit()
    assert counts == [1, 0]
    assert await _kept_codes(sessions) == []
