"""What the operator console reads: the overview's counts per party, the consumer's lag and the parked records.

The overview reads the same queries as `/metrics` (`broker.store.ops_counts`)
and the same consumer positions, so the two always agree.

It reads, never writes, so it commits nothing. The dead-letter page reads
through `broker.services.dead_letters`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.store.ops_counts import (
    last_delivery_by_party,
    open_requests_by_party,
    outbox_pending_by_recipient,
    overdue_by_party,
    parked_by_reason,
)


@dataclass(frozen=True)
class PartyRow:
    """One party's line on the overview."""

    party: str
    outbox_pending: int
    overdue: int
    open_requests: int = 0
    last_delivery: dt.datetime | None = None


@dataclass(frozen=True)
class LagRow:
    """One organiser's partition: records not yet handled and how old the oldest of them is."""

    topic: str
    partition: int
    records: int
    seconds: float


def lag_rows(records: Mapping[tuple[str, int], int], seconds: Mapping[tuple[str, int], float]) -> list[LagRow]:
    """The consumer's lag per partition, in records and seconds, in topic and partition order."""
    return [LagRow(t, p, n, seconds.get((t, p), 0.0)) for (t, p), n in sorted(records.items())]


@dataclass(frozen=True)
class Overview:
    """The overview's numbers: per party, parked per reason."""

    parties: list[PartyRow]
    parked: dict[str, int]


async def overview(sessions: async_sessionmaker[AsyncSession]) -> Overview:
    """The same counts `/metrics` reports, read once."""
    async with sessions() as db:
        outbox = await outbox_pending_by_recipient(db)
        overdue = await overdue_by_party(db)
        open_requests = await open_requests_by_party(db)
        delivered = await last_delivery_by_party(db)
        parked = await parked_by_reason(db)
    parties = sorted(set(outbox) | set(overdue) | set(open_requests) | set(delivered))
    rows = [
        PartyRow(p, outbox.get(p, 0), overdue.get(p, 0), open_requests.get(p, 0), delivered.get(p)) for p in parties
    ]
    return Overview(rows, parked)
