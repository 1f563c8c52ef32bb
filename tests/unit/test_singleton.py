"""Singleton jobs on the embedded SQLite store: one instance, so every round runs."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.store.singleton import SingletonJob, hold_round_lock


async def test_every_round_runs_on_sqlite(sessions: async_sessionmaker[AsyncSession]) -> None:
    """On SQLite the lock is always held, even by two transactions at once (there is no other instance)."""
    async with sessions() as first, first.begin(), sessions() as second, second.begin():
        assert await hold_round_lock(first, SingletonJob.OVERDUE_WATCH)
        assert await hold_round_lock(second, SingletonJob.OVERDUE_WATCH)
