"""Tamper evidence: each log entry carries the hash of the one before it.

An entry's hash covers its chain, sequence number, time, subject and payload
and the previous entry's hash, so altering, inserting or deleting an entry
breaks every hash after it; the chain head remembers the last sequence number
and hash, so cutting entries off the end shows too.
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


def verify_chain(chain: str, entries: Iterable[ChainEntry], head_seq: int, head_hash: str) -> ChainProblem | None:
    """Walk the entries in sequence order; the first problem, or None if the chain is intact."""
    expected_seq, previous = 1, GENESIS_HASH
    for entry in entries:
        if entry.seq < expected_seq:
            return ChainProblem(chain, entry.seq, "inserted")
        if entry.seq > expected_seq or entry.prev_hash != previous:
            return ChainProblem(chain, expected_seq, "deleted" if entry.seq > expected_seq else "inserted")
        recomputed = entry_hash(
            chain, entry.seq, entry.recorded_at, entry.subject, entry.payload, prev_hash=entry.prev_hash
        )
        if recomputed != entry.entry_hash:
            return ChainProblem(chain, entry.seq, "altered")
        expected_seq, previous = entry.seq + 1, entry.entry_hash
    if expected_seq - 1 != head_seq or previous != head_hash:
        return ChainProblem(chain, expected_seq, "truncated")
    return None
