"""The logs' hash chain shows any altered, inserted, deleted or cut-off entry."""

from __future__ import annotations

import dataclasses

import pytest

from broker.audit.chain import GENESIS_HASH, ChainEntry, entry_hash, verify_chain
from broker.audit.pseudonym import Pseudonymiser


def _chain(n: int) -> list[ChainEntry]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, n + 1):
        payload = {"message_id": f"m{seq}", "recipient": "hva-90"}
        sealed = entry_hash("disclosure", seq, "2025-03-04T10:00:00+00:00", f"s{seq}", payload, prev_hash=previous)
        entries.append(ChainEntry("disclosure", seq, "2025-03-04T10:00:00+00:00", f"s{seq}", payload, previous, sealed))
        previous = sealed
    return entries


def _verify(entries: list[ChainEntry], head: ChainEntry | None = None) -> tuple[int, str] | None:
    last = head or entries[-1]
    problem = verify_chain("disclosure", entries, last.seq, last.entry_hash)
    return None if problem is None else (problem.seq, problem.kind)


def test_an_intact_chain_verifies() -> None:
    """Entries written in order verify against the head."""
    assert _verify(_chain(5)) is None


def test_an_altered_payload_is_found() -> None:
    """Changing what an entry says breaks its own hash."""
    entries = _chain(5)
    entries[2] = dataclasses.replace(entries[2], payload={"message_id": "m3", "recipient": "hva-08"})
    assert _verify(entries) == (3, "altered")


def test_a_deleted_entry_is_found() -> None:
    """A gap in the sequence is reported where it starts."""
    entries = _chain(5)
    del entries[1]
    assert _verify(entries) == (2, "deleted")


def test_an_inserted_entry_is_found() -> None:
    """An entry slipped in with a repeated sequence number does not fit the chain."""
    entries = _chain(5)
    entries.insert(2, dataclasses.replace(entries[1], payload={"forged": True}))
    assert _verify(entries, head=entries[-1]) == (2, "inserted")


def test_cutting_off_the_end_is_found() -> None:
    """Deleting the newest entries leaves the head pointing past the end."""
    entries = _chain(5)
    assert _verify(entries[:3], head=entries[-1]) == (4, "truncated")


def test_pseudonyms_are_stable_keyed_and_opaque() -> None:
    """The same code gives the same pseudonym under one key, another under another key, and never the code."""
    one, other = Pseudonymiser(b"a" * 32), Pseudonymiser(b"b" * 32)
    assert one.of("010594Y9032") == one.of("010594Y9032")
    assert one.of("010594Y9032") != other.of("010594Y9032")
    assert "9032" not in one.of("010594Y9032").value


def test_a_short_key_is_refused() -> None:
    """A key under 256 bits is refused at start-up."""
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonymiser(b"short")
