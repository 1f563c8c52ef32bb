"""What the operator console's overview reads: the counts per party and the parked records per reason.

It reads, never writes, so it commits nothing. The dead-letter page reads
through `broker.services.dead_letters`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.store.ops_counts import outbox_pending_by_recipient, overdue_by_party, parked_by_reason


@dataclass(frozen=True)
class PartyRow:
    """One party's line on the overview."""

    party: str
    outbox_pending: int
    overdue: int


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
        parked = await parked_by_reason(db)
    parties = sorted(set(outbox) | set(overdue))
    return Overview([PartyRow(p, outbox.get(p, 0), overdue.get(p, 0)) for p in parties], parked)
