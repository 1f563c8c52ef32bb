"""One migrated template database per session; each test gets a clone of it.

Running the Alembic migrations for every test costs most of a second each;
PostgreSQL's `CREATE DATABASE … TEMPLATE` copies a migrated database in a few
tens of milliseconds instead. The template is built once, with the migrations
(never `create_all`), and then closed to connections, as cloning needs it
idle. Each clone is dropped when its test ends, connections and all.

The clone copies the template's files (`STRATEGY FILE_COPY`) rather than
writing every page to the WAL, the faster way for a small database on a
server without fsync; the server's data lives in memory where the machine
has a tmpfs (`scratch_dir`).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from broker.settings import Settings
from broker.store.migrate import upgrade_database
from devinfra.postgres import LocalPostgres
from entrypoints.org_commands import register_local_party_keys

TEMPLATE = "silta_template"
_MEMORY = Path("/dev/shm")  # noqa: S108  only a parent: each folder is a fresh mkdtemp


def scratch_dir(prefix: str) -> Path:
    """A new temporary folder, in memory (tmpfs) where the machine has one; the data there is throwaway."""
    in_memory = _MEMORY.is_dir() and os.access(_MEMORY, os.W_OK | os.X_OK)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_MEMORY if in_memory else None))


class DatabaseClones:
    """Builds the template on one server and hands out clones of it."""

    def __init__(self, server: LocalPostgres, template: str = TEMPLATE) -> None:
        self.server = server
        self.template = template

    async def _execute(self, statement: str) -> None:
        """Run one statement on the server's maintenance database, outside any transaction."""
        engine = create_async_engine(self.server.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def build_template(self) -> None:
        """Create the template on the (fresh) server and migrate it to head with Alembic."""
        await self._execute(f'CREATE DATABASE "{self.template}"')
        await upgrade_database(self.server.url(self.template))
        await register_local_party_keys(Settings(database_url=self.server.url(self.template)))
        await self._execute(f'ALTER DATABASE "{self.template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')

    async def clone(self) -> str:
        """A new database copied from the template; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        return self.server.url(name)

    async def drop(self, url: str) -> None:
        """Drop a clone, ending any connection still open to it (a killed service's, say)."""
        name = url.rsplit("/", 1)[1]
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def outbox_drained(database_url: str) -> Callable[[], Awaitable[bool]]:
    """A condition for `wait_until`: true once the database's outbox holds no unpublished row."""

    async def drained() -> bool:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                pending = await connection.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        finally:
            await engine.dispose()
        return bool(pending == 0)

    return drained
