"""Tamper evidence: each log entry carries the hash of the one before it.

An entry's hash covers its chain, sequence number, time, subject and payload
and the previous entry's hash, so altering, inserting or deleting an entry
breaks every hash after it; the chain head remembers the last sequence number
and hash, so cutting entries off the end shows too — unless the head row is
rewritten with them, which is why signed checkpoints of the head are kept
outside the database (`broker/audit/checkpoints.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainEntry:
    """One log entry as stored."""

    chain: str
    seq: int
    recorded_at: str
    subject: str | None
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str


def entry_hash(
    chain: str, seq: int, recorded_at: str, subject: str | None, payload: dict[str, Any], *, prev_hash: str
) -> str:
    """The SHA-256 that seals an entry to its predecessor (canonical JSON, sorted keys)."""
    body = json.dumps(
        {"chain": chain, "seq": seq, "recorded_at": recorded_at, "subject": subject, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """The first place where a chain does not verify."""

    chain: str
    seq: int
    kind: str
    """`altered`, `inserted`, `deleted` or `truncated`."""


class ChainVerifier:
    """Checks a chain one entry at a time, so twelve years of entries never need to be in memory at once."""

    def __init__(self, chain: str) -> None:
        self.chain = chain
        self.count = 0
        self._expected_seq = 1
        self._previous = GENESIS_HASH

    def feed(self, entry: ChainEntry) -> ChainProblem | None:
        """Check the next entry in sequence order; the problem it shows, if any."""
        if entry.seq < self._expected_seq:
            return ChainProblem(self.chain, entry.seq, "inserted")
        if entry.seq > self._expected_seq or entry.prev_hash != self._previous:
            kind = "deleted" if entry.seq > self._expected_seq else "inserted"
            return ChainProblem(self.chain, self._expected_seq, kind)
        recomputed = entry_hash(
            self.chain, entry.seq, entry.recorded_at, entry.subject, entry.payload, prev_hash=entry.prev_hash
        )
        if recomputed != entry.entry_hash:
            return ChainProblem(self.chain, entry.seq, "altered")
        self._expected_seq, self._previous = entry.seq + 1, entry.entry_hash
        self.count += 1
        return None

    def finish(self, head_seq: int, head_hash: str) -> ChainProblem | None:
        """After the last entry: the head must point at it, or entries were cut off the end."""
        if self._expected_seq - 1 != head_seq or self._previous != head_hash:
            return ChainProblem(self.chain, self._expected_seq, "truncated")
        return None


def verify_chain(chain: str, entries: Iterable[ChainEntry], head_seq: int, head_hash: str) -> ChainProblem | None:
    """Walk the entries in sequence order; the first problem, or None if the chain is intact."""
    verifier = ChainVerifier(chain)
    for entry in entries:
        problem = verifier.feed(entry)
        if problem is not None:
            return problem
    return verifier.finish(head_seq, head_hash)
