"""Singleton jobs on a shared database: a round runs only in the instance that holds the job's advisory lock.

Several service instances share one PostgreSQL. Jobs that must run in one
place at a time (the overdue watch, the audit checkpoints, retention) take a
transaction-scoped advisory lock with `pg_try_advisory_xact_lock` as the first
statement of their round's transaction. The instance that gets it runs the
round; the others skip theirs and try again on their next tick. The lock ends
with the transaction, so an instance that dies mid-round (connection gone)
frees it without anyone's help, and the next round can be won by any instance.
Because the lock is taken before the round reads anything, a round that wins
right after another's commit sees that commit (READ COMMITTED: each statement
sees what was committed before it started).

SQLite is the embedded default for one instance: there every round runs.
"""

from __future__ import annotations

import enum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class SingletonJob(enum.IntEnum):
    """The advisory lock number of each elected job (one 64-bit key space, apart from the relay's two-key locks)."""

    OVERDUE_WATCH = 0x5117A_0001
    AUDIT_CHECKPOINTS = 0x5117A_0002
    RETENTION = 0x5117A_0003


def on_postgresql(session: AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL (several instances may share it)."""
    return session.get_bind().dialect.name == "postgresql"


async def hold_round_lock(session: AsyncSession, job: SingletonJob) -> bool:
    """Whether this transaction holds the job's lock (taken now, kept until it ends); always True on SQLite."""
    if not on_postgresql(session):
        return True
    held = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:job)"), {"job": int(job)})
    return bool(held)
