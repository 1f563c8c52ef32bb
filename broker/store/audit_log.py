"""Appending to and reading the hash-chained logs. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.chain import ChainEntry, ChainProblem, ChainVerifier, entry_hash
from broker.audit.checkpoints import ChainHead
from broker.store.tables import AuditChainHead, AuditEntry

CHAINS = ("disclosure", "receipt", "usage")


async def append_entries(
    session: AsyncSession, chain: str, entries: list[tuple[str | None, dict[str, Any]]], at: dt.datetime
) -> None:
    """Append (subject, payload) entries to a chain; the head's row lock keeps appends in one order."""
    if not entries:
        return
    head = (
        await session.execute(select(AuditChainHead).where(AuditChainHead.chain == chain).with_for_update())
    ).scalar_one()
    seq, previous = head.seq, head.entry_hash
    recorded_at = at.isoformat()
    rows = []
    for subject, payload in entries:
        seq += 1
        sealed = entry_hash(chain, seq, recorded_at, subject, payload, prev_hash=previous)
        rows.append(
            {
                "chain": chain,
                "seq": seq,
                "recorded_at": recorded_at,
                "subject": subject,
                "payload": payload,
                "prev_hash": previous,
                "entry_hash": sealed,
            }
        )
        previous = sealed
    await session.execute(insert(AuditEntry), rows)
    await session.execute(
        update(AuditChainHead).where(AuditChainHead.chain == chain).values(seq=seq, entry_hash=previous)
    )


async def entries_about(session: AsyncSession, subjects: Sequence[str]) -> list[ChainEntry]:
    """Every entry, in every chain, about one person: under any of their pseudonyms (one per key version)."""
    rows = await session.scalars(
        select(AuditEntry).where(AuditEntry.subject.in_(subjects)).order_by(AuditEntry.chain, AuditEntry.seq)
    )
    return [_entry(row) for row in rows]


async def chain_entries(session: AsyncSession, chain: str) -> AsyncIterator[ChainEntry]:
    """A chain's entries in sequence order, streamed."""
    result = await session.stream_scalars(select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq))
    async for row in result:
        yield _entry(row)


async def verify_log(session: AsyncSession) -> tuple[dict[str, int], ChainProblem | None]:
    """Walk every chain, streaming: entries checked per chain, and the first problem found (or None)."""
    counts: dict[str, int] = {}
    for chain in CHAINS:
        head = (await session.execute(select(AuditChainHead).where(AuditChainHead.chain == chain))).scalar_one()
        verifier = ChainVerifier(chain)
        async for entry in chain_entries(session, chain):
            problem = verifier.feed(entry)
            if problem is not None:
                counts[chain] = verifier.count
                return counts, problem
        counts[chain] = verifier.count
        problem = verifier.finish(head.seq, head.entry_hash)
        if problem is not None:
            return counts, problem
    return counts, None


async def chain_heads(session: AsyncSession) -> list[ChainHead]:
    """Where each chain's head row says it ends, in the order of `CHAINS`; chains without a head row are left out."""
    rows = {row.chain: row for row in await session.scalars(select(AuditChainHead))}
    return [ChainHead(chain, rows[chain].seq, rows[chain].entry_hash) for chain in CHAINS if chain in rows]


async def hash_at(session: AsyncSession, chain: str, seq: int) -> str | None:
    """The stored hash of one entry, or None if the chain has no entry at `seq`."""
    return await session.scalar(select(AuditEntry.entry_hash).where(AuditEntry.chain == chain, AuditEntry.seq == seq))


def _entry(row: AuditEntry) -> ChainEntry:
    return ChainEntry(
        row.chain, row.seq, row.recorded_at, row.subject, dict(row.payload), row.prev_hash, row.entry_hash
    )
