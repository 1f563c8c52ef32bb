"""Sharing the outbox between relays on several instances, keeping each record key's order.

On PostgreSQL a relay claims record keys, not rows: it takes the oldest
pending keys and, for each, tries a transaction-scoped advisory lock on the
key's hash (`pg_try_advisory_xact_lock(namespace, hashtext(key))`). The keys
another relay holds are skipped, never waited on, as `FOR UPDATE SKIP LOCKED`
skips rows (the keys are tried oldest first until `limit` are won, so a
relay behind a busy one still finds the keys nobody holds; the lock call runs
on the materialised key list, row by row, until the limit stops it); the
relay then reads, in a second statement, the pending rows of
the keys it won. Claiming rows one by one would not do: a relay could skip
the locked first row of a case and publish its second, or publish a row
written after another relay's claim before that relay commits; both break the
case's order on its topic. With the key lock, all rows of a key go out through
one relay at a time, oldest first, and the next relay to win the key reads
after the previous one's commit (the rows statement starts after the lock is
granted, so under READ COMMITTED it sees what the holder marked published).
Two keys with the same hash only serialise each other.

On SQLite (one instance) there is nothing to claim: `claimed_keys` is None.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from broker.store.singleton import on_postgresql

RELAY_LOCK_NAMESPACE = 0x5117A
"""The first half of each key lock's two-int key (a key space apart from the singleton jobs' bigint locks)."""

_CLAIM = text(
    """
    WITH pending_keys AS MATERIALIZED (
        SELECT record_key, min(id) AS oldest FROM outbox
        WHERE published_at IS NULL AND topic <> ALL(CAST(:skip AS text[]))
        GROUP BY record_key ORDER BY oldest
    )
    SELECT record_key FROM pending_keys
    WHERE pg_try_advisory_xact_lock(:namespace, hashtext(record_key))
    LIMIT :limit
    """
)
"""Materialised, so the planner cannot push the lock call into the aggregate (it would lock every pending key)."""


async def claimed_keys(
    session: AsyncSession, limit: int, skip_topics: frozenset[str] = frozenset()
) -> list[str] | None:
    """The record keys this transaction now holds (up to `limit`, oldest first, not on `skip_topics`); SQLite: None."""
    if not on_postgresql(session):
        return None
    parameters = {"limit": limit, "namespace": RELAY_LOCK_NAMESPACE, "skip": sorted(skip_topics)}
    rows = await session.execute(_CLAIM, parameters)
    return [key for (key,) in rows]
