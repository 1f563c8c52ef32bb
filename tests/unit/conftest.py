"""Fixtures for the unit tests of the core: a migrated SQLite database of each test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from broker.store.migrate import upgrade_database


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite database of this test's own (the embedded default's store, in a temporary folder)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'silta.db'}"
    await upgrade_database(url)
    engine = create_async_engine(url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()
