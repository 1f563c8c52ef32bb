"""Exactly-once effect for a case system: the processed message ids, kept with the effect in one transaction.

Silta delivers at least once: a record comes again after a crash between the
case system's work and the offset commit, or after a rebalance. This store
makes that harmless. For each delivery, in ONE database transaction, it
records the message id (a primary key) and runs the case system's handler,
which writes its effect through the same connection; then it commits, and only
then is the Kafka offset committed. So:

- the handler raises: the transaction rolls back, neither the effect nor the
  id is kept, the offset is not committed, and the record comes again;
- the process dies after the commit but before the offset commit: the record
  comes again, its id is found, the handler is not called, the offset moves on;
- two consumers get the same record at once (a rebalance): the second insert of
  the id waits for the first transaction, then finds the id and skips the handler.

SQLAlchemy's async engine rather than the `sqlite3` module: the consumer loop
never blocks on the disk, and the same store runs on the case system's own
PostgreSQL (or any database SQLAlchemy speaks) by changing the URL, where
several consumers of one group share it. SQLite is the default.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import Column, DateTime, Insert, MetaData, String, Table, exists, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.municipality.client import Delivery, InvalidRecord
from adapters.municipality.messages import ApplicationTransfer, SiltaMessage
from broker.domain.clock import Clock, SystemClock

_metadata = MetaData()
processed_messages = Table(
    "silta_processed_messages",
    _metadata,
    Column("message_id", String(64), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)
"""One row per message whose effect the case system has stored."""

Effect = Callable[[AsyncConnection], Awaitable[None]]
"""Writes one message's effect through the store's connection, inside its transaction; never commits."""
Handler = Callable[[ApplicationTransfer | SiltaMessage, AsyncConnection], Awaitable[None]]
"""The case system's handling of one message: `async def handle(message, tx)`, writing its effect through `tx`."""


class Outcome(enum.Enum):
    """What became of one delivery."""

    HANDLED = "handled"
    """The handler ran and its effect was committed with the message id."""
    DUPLICATE = "duplicate"
    """The id was processed before: the handler was not called."""
    INVALID = "invalid"
    """Not a valid Silta message (see `InvalidRecord.rejection`): no handler, nothing stored."""


class ProcessedMessages:
    """The durable store of processed message ids, in the case system's database (SQLite by default)."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self._clock = clock or SystemClock()

    @classmethod
    def sqlite(cls, path: Path, clock: Clock | None = None) -> ProcessedMessages:
        """A store in an SQLite file (made on first use)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(create_async_engine(f"sqlite+aiosqlite:///{path}"), clock)

    async def create(self) -> None:
        """Create the table if it is not there yet (the case system may also create it in its own migrations)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()

    async def seen(self, message_id: str) -> bool:
        """True if the message's effect is stored already."""
        async with self.engine.connect() as connection:
            query = select(exists().where(processed_messages.c.message_id == message_id))
            return bool(await connection.scalar(query))

    async def once(self, message_id: str, effect: Effect) -> bool:
        """Run `effect` and record `message_id` in one transaction; False (and no effect) if it was recorded before."""
        async with self.engine.begin() as tx:
            if not await _claim(tx, message_id, self._clock.now()):
                return False
            await effect(tx)
        return True


async def _claim(tx: AsyncConnection, message_id: str, now: dt.datetime) -> bool:
    """Insert the id unless it is there; a concurrent insert of the same id waits for the other transaction.

    `ON CONFLICT DO NOTHING` rather than catching the key violation: on PostgreSQL that would abort the
    whole transaction, and a constraint of the case system's own tables must not pass for a duplicate.
    """
    row = {"message_id": message_id, "processed_at": now}
    dialect = tx.dialect.name
    if dialect == "sqlite":
        statement: Insert = sqlite_insert(processed_messages).values(row).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = postgresql_insert(processed_messages).values(row).on_conflict_do_nothing()
    else:
        raise ValueError(f"the processed-message store runs on SQLite or PostgreSQL, not {dialect}")
    result = await tx.execute(statement)
    return bool(result.rowcount == 1)


async def record_only(_message: ApplicationTransfer | SiltaMessage, _tx: AsyncConnection) -> None:
    """A handler with no effect beyond the stored id (`silta org listen`, whose effect is the line it prints)."""


class Acknowledger(Protocol):
    """What `handle_once` needs of the client: `OrganiserClient.ack`, which commits the delivery's offset."""

    async def ack(self, delivery: Delivery) -> None:
        """Mark the delivery processed."""


async def handle_once(client: Acknowledger, store: ProcessedMessages, delivery: Delivery, handle: Handler) -> Outcome:
    """Hand a delivery to `handle` unless its id was processed; acknowledge it only after the store committed.

    If `handle` raises, nothing is stored or acknowledged and the exception propagates: the record comes again.
    """
    message = delivery.message
    if isinstance(message, InvalidRecord):
        await client.ack(delivery)
        return Outcome.INVALID
    ran = await store.once(message.envelope.message_id, lambda tx: handle(message, tx))
    await client.ack(delivery)
    return Outcome.HANDLED if ran else Outcome.DUPLICATE
