"""Telling a transient fault (retry with backoff, never park) from a record's own failure (park it).

A fault of the database or the network says nothing about the record: the
same record succeeds once the server is back. Everything else that goes
wrong while one record is handled — a constraint, a value no code expected,
a bug — stays with that record.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OperationalError,  # PostgreSQL restarting, SQLite "database is locked"
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
    sqlite3.OperationalError,
)
_TRANSIENT_NAMES = frozenset(
    {
        "PostgresConnectionError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "InterfaceError",
        "TooManyConnectionsError",
        "KafkaConnectionError",
        "NodeNotReadyError",
        "RequestTimedOutError",
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether the failure is the infrastructure's (worth retrying as it is) rather than the record's."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    cause = error.__cause__ or error.__context__
    if type(error).__name__ in _TRANSIENT_NAMES:
        return True
    return cause is not None and cause is not error and is_transient(cause)
