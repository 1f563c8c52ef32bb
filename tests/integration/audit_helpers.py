"""Building, cutting and rewriting log chains on a real database, and running `silta audit …` as a user would."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from broker.audit.chain import entry_hash
from broker.domain.clock import ManualClock
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.store.audit_log import append_entries, hash_at
from broker.store.tables import AuditChainHead, AuditEntry
from entrypoints.cli import main

START = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)


@asynccontextmanager
async def units_on(database_url: str, clock: ManualClock | None = None) -> AsyncIterator[UnitOfWorkFactory]:
    """Units of work on a test database, with a clock the test moves."""
    engine = create_async_engine(database_url)
    try:
        yield UnitOfWorkFactory(async_sessionmaker(engine, expire_on_commit=False), clock or ManualClock(START), _none)
    finally:
        await engine.dispose()


def _none() -> None:
    """No relay to wake."""


async def log_entries(units: UnitOfWorkFactory, chain: str, count: int) -> None:
    """Append `count` entries to a chain, as the service does, in one unit of work."""
    async with units() as uow:
        entries: list[tuple[str | None, dict[str, Any]]] = [(f"s-{n}", {"message_id": f"m-{n}"}) for n in range(count)]
        await append_entries(uow.session, chain, entries, uow.now)
        await uow.commit()


async def cut_back(units: UnitOfWorkFactory, chain: str, to_seq: int) -> None:
    """What the issue describes: delete the newest entries and rewrite the head row to point before them."""
    async with units() as uow:
        session = uow.session
        await session.execute(delete(AuditEntry).where(AuditEntry.chain == chain, AuditEntry.seq > to_seq))
        last = await session.scalar(
            select(AuditEntry.entry_hash).where(AuditEntry.chain == chain, AuditEntry.seq == to_seq)
        )
        await session.execute(
            update(AuditChainHead).where(AuditChainHead.chain == chain).values(seq=to_seq, entry_hash=last)
        )
        await uow.commit()


async def rewrite_from(units: UnitOfWorkFactory, chain: str, from_seq: int) -> None:
    """A careful forger: change entries from `from_seq` on and rehash them and the head, so the chain verifies."""
    async with units() as uow:
        session = uow.session
        rows = (
            await session.scalars(select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq))
        ).all()
        previous = next(row.entry_hash for row in rows if row.seq == from_seq - 1)
        for row in (row for row in rows if row.seq >= from_seq):
            row.payload = {"message_id": "forged"}
            row.prev_hash = previous
            row.entry_hash = entry_hash(chain, row.seq, row.recorded_at, row.subject, row.payload, prev_hash=previous)
            previous = row.entry_hash
        await session.execute(update(AuditChainHead).where(AuditChainHead.chain == chain).values(entry_hash=previous))
        await uow.commit()


async def hash_of(units: UnitOfWorkFactory, chain: str, seq: int) -> str | None:
    """The stored hash of one entry."""
    async with units() as uow:
        return await hash_at(uow.session, chain, seq)


async def silta(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    """Run the `silta` command (in a thread: it runs its own event loop); its exit code and output lines."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    return code, capsys.readouterr().out.splitlines()
