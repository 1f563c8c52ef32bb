"""Telling a transient fault (retry with backoff, never park) from a record's own failure (park it).

A fault of the database or the network says nothing about the record: the
same record succeeds once the server is back, the deadlock is over or the
lock is free. Everything else that goes wrong while one record is handled —
a constraint, a value no code expected, a bug — stays with that record.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OperationalError,  # PostgreSQL restarting, SQLite "database is locked"
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    ConnectionError,
    TimeoutError,
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
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"})
"""Serialization failure, deadlock, lock not available, statement timeout, shutdowns, too many connections."""
_TRANSIENT_SQLSTATE_CLASSES = ("08",)
"""Connection exceptions."""


def is_transient(error: BaseException) -> bool:
    """Whether the failure is the infrastructure's (worth retrying as it is) rather than the record's."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_transient_here(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_transient_here(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and (error.connection_invalidated or _transient_sqlstate(error.orig)):
        return True
    return isinstance(error, _TRANSIENT_TYPES) or type(error).__name__ in _TRANSIENT_NAMES or _transient_sqlstate(error)


def _transient_sqlstate(error: object) -> bool:
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and (state in _TRANSIENT_SQLSTATES or state.startswith(_TRANSIENT_SQLSTATE_CLASSES))
