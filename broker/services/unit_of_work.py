"""The unit of work: one database transaction, opened and committed by the edge.

A REST route, the Kafka consumer, a background job or a CLI command opens a
unit, hands it to a use case, and commits it once the use case has returned.
Use cases and the store never commit: everything one use case writes — the
message, its outbox row, its history, its log entries — lands together or not
at all. The unit also carries the time (one `now` for everything it writes)
and remembers whether an outbox row was written, so the edge can wake the
relay after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.domain.clock import Clock


class UnitOfWork:
    """A session in a transaction; rolled back unless `commit` was called."""

    def __init__(self, session: AsyncSession, clock: Clock, on_outbox: Callable[[], None]) -> None:
        self.session = session
        self.clock = clock
        self.now: dt.datetime = clock.now()
        """The time of this unit: every row it writes is stamped with it."""
        self._on_outbox = on_outbox
        self._outbox_written = False
        self._committed = False

    def outbox_written(self) -> None:
        """Note that the unit wrote outbox rows: the relay is woken after the commit."""
        self._outbox_written = True

    async def commit(self) -> None:
        """Commit the transaction (the edge's call, once), then wake the relay if there is news for it."""
        await self.session.commit()
        self._committed = True
        if self._outbox_written:
            self._on_outbox()

    async def rollback(self) -> None:
        """Undo everything the unit wrote."""
        await self.session.rollback()


class UnitOfWorkFactory:
    """Opens units of work on the application's database: `async with units() as uow: …; await uow.commit()`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, on_outbox: Callable[[], None]) -> None:
        self._sessions = sessions
        self._clock = clock
        self._on_outbox = on_outbox

    def __call__(self) -> _OpenUnit:
        """A unit to open with `async with`."""
        return _OpenUnit(self._sessions, self._clock, self._on_outbox)


class _OpenUnit:
    """The async context manager around one unit of work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, on_outbox: Callable[[], None]) -> None:
        self._session = sessions()
        self._unit = UnitOfWork(self._session, clock, on_outbox)

    async def __aenter__(self) -> UnitOfWork:
        await self._session.begin()
        return self._unit

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if self._session.in_transaction():
                await self._session.rollback()
        finally:
            await self._session.close()
