"""Kela's inbox cursor with two relays delivering at once: an entry never commits behind one already listed."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.store import inbox
from tests.integration.instances import instance_sessions, store_transfers
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


async def _waits_on_a_lock(sessions: async_sessionmaker[AsyncSession], pid: int) -> bool:
    async with sessions() as session:
        waiting = await session.scalar(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
    return bool(waiting)


async def _read_after(sessions: async_sessionmaker[AsyncSession], cursor: int) -> tuple[list[str], int]:
    """One page after the cursor, as Kela's reader gets it: the message ids and the next cursor."""
    async with sessions() as session:
        items = await inbox.open_items(session, "kela", cursor, 100)
    return [i.message_id for i in items], items[-1].seq if items else cursor


async def test_a_reader_following_the_cursor_misses_no_entry_of_two_concurrent_deliveries(database_url: str) -> None:
    """Relay A takes a cursor value first but commits last: a reader that listed B's entry still gets A's.

    Two instances' relays claim different record keys, so nothing else orders their transactions. Before
    the fix, B's entry (the higher seq) was listed while A's (the lower) was uncommitted; the reader moved
    its cursor past it and never saw A's entry. The chaos checker's "inbox skipped by the cursor" looks for
    this in a run; here the interleaving is made certain.
    """
    async with instance_sessions(database_url) as sessions:
        first, second = await store_transfers(sessions, ["case-a", "case-b"])
        async with sessions() as relay_a, sessions() as relay_b:
            await inbox.deliver(relay_a, "kela", [first], NOW)
            pid_b = int(await relay_b.scalar(text("SELECT pg_backend_pid()")) or 0)

            async def deliver_b() -> None:
                await inbox.deliver(relay_b, "kela", [second], NOW)
                await relay_b.commit()

            delivering_b = asyncio.create_task(deliver_b())
            await wait_until(
                lambda: delivering_b.done() or _waits_on_a_lock(sessions, pid_b), 30, what="relay B done or waiting"
            )
            seen, cursor = await _read_after(sessions, 0)
            await relay_a.commit()
            await delivering_b
        later, _ = await _read_after(sessions, cursor)
    assert sorted(seen + later) == sorted([first, second])
