"""Waking every instance's relay: NOTIFY `silta_outbox` after an outbox write commits, LISTEN in every instance.

Each instance keeps one asyncpg connection of its own (from the engine's
URL) that LISTENs on the channel. When a unit of work or the group committer
of any instance commits outbox rows, that instance's relay is woken in-process
and the signal sends a NOTIFY on its connection, so the relays of all other
instances wake too. Notices are only a hint: the relay still polls every
`SILTA_RELAY_POLL_INTERVAL_S`, so a notice lost while a connection is down
delays rows, never loses them. A lost connection is reopened with a backoff
(a quiet one is pinged every `keepalive_s`), and every (re)connection wakes the
relay once for what it may have missed. Used only on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog
from sqlalchemy.engine import URL

log = structlog.get_logger(__name__)
CHANNEL = "silta_outbox"
_MAX_RETRY_S = 30.0


def listener_dsn(url: URL) -> str:
    """The asyncpg DSN of the engine's database URL (`postgresql+asyncpg://…` without the dialect's driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxSignal:
    """Listens for outbox news from other instances and announces this instance's own."""

    def __init__(self, dsn: str, on_news: Callable[[], None], retry_s: float = 1.0, keepalive_s: float = 30.0) -> None:
        self._dsn = dsn
        self._on_news = on_news
        self._retry_s = retry_s
        self._keepalive_s = keepalive_s
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._news_to_send = False
        self.listening = asyncio.Event()
        """Set while the LISTEN connection is up (tests wait on it)."""

    @property
    def server_pid(self) -> int | None:
        """The listening connection's backend process id, while connected."""
        return None if self._connection is None else int(self._connection.get_server_pid())

    def start(self) -> None:
        """Connect and listen in the background (reconnecting whenever the connection is lost)."""
        self._task = asyncio.create_task(self._run(), name="outbox-signal")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        for task in (self._task, self._sender):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._sender = None

    def announce(self) -> None:
        """Tell the other instances that outbox rows were committed (sent in the background, coalesced)."""
        self._news_to_send = True
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send(), name="outbox-notify")

    async def _send(self) -> None:
        while self._news_to_send:
            self._news_to_send = False
            connection = self._connection
            if connection is None:
                return  # not connected: the other relays' polling covers it
            try:
                await connection.execute(f"NOTIFY {CHANNEL}")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("outbox_notify_failed", error=repr(error))
                return

    async def _run(self) -> None:
        delay = self._retry_s
        while True:
            try:
                connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("outbox_listen_connect_failed", error=repr(error), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_RETRY_S)
                continue
            delay = self._retry_s
            try:
                await self._listen(connection)
            finally:
                self._connection = None
                self.listening.clear()
                with contextlib.suppress(Exception):
                    connection.terminate()
            log.warning("outbox_listen_connection_lost", retry_in_s=delay)
            await asyncio.sleep(delay)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Listen until the connection is lost; wake the relay once for what came in while not listening."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        own_pid = connection.get_server_pid()

        def heard(_connection: object, pid: int, _channel: str, _payload: object) -> None:
            if pid != own_pid:
                self._on_news()

        try:
            await connection.add_listener(CHANNEL, heard)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("outbox_listen_failed", error=repr(error))
            return
        self._connection = connection
        self.listening.set()
        self._on_news()
        while await self._still_up(connection, lost):
            pass

    async def _still_up(self, connection: asyncpg.Connection, lost: asyncio.Event) -> bool:
        """Wait up to `keepalive_s` for a loss; a quiet connection is pinged, and True while it answers."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lost.wait(), self._keepalive_s)
        if lost.is_set() or connection.is_closed():
            return False
        try:
            await asyncio.wait_for(connection.execute("SELECT 1"), self._keepalive_s)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True
