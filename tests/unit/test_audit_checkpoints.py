"""Signed checkpoints: the canonical encoding, the file lines, the signatures, and meeting them on a chain."""

from __future__ import annotations

import dataclasses
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit.anchor import AnchorCheck, FiledCheckpoint, check_lines, unknown_chains
from broker.audit.chain import GENESIS_HASH, ChainEntry, ChainVerifier, entry_hash
from broker.audit.checkpoints import (
    DOMAIN,
    ChainHead,
    Checkpoint,
    CheckpointFormatError,
    Ed25519Signer,
    canonical_bytes,
    parse_line,
    sign_checkpoint,
    signature_problem,
)

AT = "2025-03-04T10:00:00+00:00"
OLD, NEW = Ed25519Signer(Ed25519PrivateKey.generate(), "old-1"), Ed25519Signer(Ed25519PrivateKey.generate(), "new-2")
KEYS = {OLD.key_id: OLD.private_key.public_key(), NEW.key_id: NEW.private_key.public_key()}


def _chain(n: int, chain: str = "disclosure") -> list[ChainEntry]:
    entries, previous = [], GENESIS_HASH
    for seq in range(1, n + 1):
        payload = {"message_id": f"m{seq}"}
        sealed = entry_hash(chain, seq, AT, f"s{seq}", payload, prev_hash=previous)
        entries.append(ChainEntry(chain, seq, AT, f"s{seq}", payload, previous, sealed))
        previous = sealed
    return entries


def _checkpoint_of(entry: ChainEntry, signer: Ed25519Signer = NEW, at: str = AT) -> Checkpoint:
    return sign_checkpoint(ChainHead(entry.chain, entry.seq, entry.entry_hash), at, signer)


def _meet(entries: list[ChainEntry], checkpoints: list[Checkpoint]) -> AnchorCheck:
    """Walk `entries` as `silta audit verify` does: the chain verifier first, then the checkpoints."""
    anchor = AnchorCheck("disclosure", [FiledCheckpoint(n, c) for n, c in enumerate(checkpoints, start=1)])
    verifier = ChainVerifier("disclosure")
    for entry in entries:
        if verifier.feed(entry) is not None:
            return anchor
        anchor.feed(entry, verifier.count)
    anchor.finish(entries[-1].seq if entries else 0)
    return anchor


def test_the_canonical_encoding_is_fixed_bytes() -> None:
    """A domain prefix, then sorted compact ASCII JSON: what any auditor's own tool can rebuild byte for byte."""
    data = canonical_bytes("disclosure", 6, "ab" * 32, count=6, at=AT, key_id="silta-records-1")
    assert data == (
        b"silta-audit-checkpoint/v1\n"
        b'{"at":"2025-03-04T10:00:00+00:00","chain":"disclosure","count":6,"head_hash":"' + b"ab" * 32 + b'",'
        b'"key_id":"silta-records-1","seq":6,"v":1}'
    )
    assert data.startswith(DOMAIN)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain", "usage"),
        ("seq", 7),
        ("head_hash", "cd" * 32),
        ("count", 5),
        ("at", "2025-03-04T10:00:01+00:00"),
        ("key_id", "x"),
    ],
)
def test_every_field_is_in_the_encoding(field: str, value: object) -> None:
    """Changing any one field changes the signed bytes, so none can be altered under a valid signature."""
    base = {"chain": "disclosure", "seq": 6, "head_hash": "ab" * 32, "count": 6, "at": AT, "key_id": "k"}
    changed = {**base, field: value}
    assert canonical_bytes(**base) != canonical_bytes(**changed)  # type: ignore[arg-type]


def test_a_line_round_trips_and_its_signature_verifies() -> None:
    """What `to_line` writes, `parse_line` reads back identically, and the signature holds under its key id."""
    checkpoint = _checkpoint_of(_chain(3)[-1])
    line = checkpoint.to_line()
    assert "\n" not in line
    assert parse_line(line) == checkpoint
    assert (checkpoint.seq, checkpoint.count, checkpoint.key_id) == (3, 3, "new-2")
    assert signature_problem(checkpoint, KEYS) is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON"),
        ('{"v":1}', "fields differ"),
        ("[]", "fields differ"),
        ("VERSION2", "unknown version"),
        ("SEQ_TRUE", "whole number"),
        ("SEQ_NEGATIVE", "whole number"),
        ("CHAIN_NUMBER", "not text"),
    ],
)
def test_lines_that_are_no_checkpoint_are_refused(line: str, reason: str) -> None:
    """Anything but the exact shape `to_line` writes is malformed, with a reason (never silently skipped)."""
    data = json.loads(_checkpoint_of(_chain(1)[0]).to_line())
    variants = {
        "VERSION2": {**data, "v": 2},
        "SEQ_TRUE": {**data, "seq": True},
        "SEQ_NEGATIVE": {**data, "seq": -1},
        "CHAIN_NUMBER": {**data, "chain": 1},
    }
    text = json.dumps(variants[line]) if line in variants else line
    with pytest.raises(CheckpointFormatError, match=reason):
        parse_line(text)


def test_a_signature_fails_on_an_unknown_key_a_changed_field_or_another_key() -> None:
    """`key-unknown` when the key id is not given; `signature-invalid` for an edit or a key that did not sign."""
    checkpoint = _checkpoint_of(_chain(2)[-1], OLD)
    assert signature_problem(checkpoint, {NEW.key_id: KEYS[NEW.key_id]}) == "key-unknown"
    assert signature_problem(dataclasses.replace(checkpoint, seq=1), KEYS) == "signature-invalid"
    assert signature_problem(checkpoint, {"old-1": KEYS["new-2"]}) == "signature-invalid"
    assert signature_problem(dataclasses.replace(checkpoint, signature="!!"), KEYS) == "signature-invalid"


def test_check_lines_keeps_the_verified_and_names_each_bad_line() -> None:
    """Checkpoints by two key ids both count; a tampered and a garbled line are named by line number."""
    entries = _chain(4)
    good_old, good_new = _checkpoint_of(entries[1], OLD), _checkpoint_of(entries[3], NEW)
    tampered = json.loads(good_new.to_line()) | {"seq": 3}
    lines = [(1, good_old.to_line()), (2, json.dumps(tampered)), (3, "garbage"), (5, good_new.to_line())]
    checked = check_lines(lines, KEYS)
    assert [f.line for f in checked.valid["disclosure"]] == [1, 5]
    assert [(p.line, p.kind) for p in checked.problems] == [(2, "signature-invalid"), (3, "malformed")]
    assert checked.lines == 4
    assert unknown_chains(checked, ["receipt", "usage"])[0].kind == "unknown-chain"


def test_an_intact_chain_meets_every_checkpoint() -> None:
    """Checkpoints at entries 2 and 5 of a 6-entry chain fit; the newest is the last good one."""
    entries = _chain(6)
    anchor = _meet(entries, [_checkpoint_of(entries[1]), _checkpoint_of(entries[4])])
    assert anchor.problem is None
    assert anchor.last_good == _checkpoint_of(entries[4])


def test_cutting_entries_off_is_found_even_with_the_head_rewritten() -> None:
    """A chain cut back to 4 entries verifies on its own, but not against the checkpoint of entry 6."""
    entries = _chain(6)
    anchor = _meet(entries[:4], [_checkpoint_of(entries[2], at="T1"), _checkpoint_of(entries[5], at="T2")])
    assert anchor.problem is not None
    assert (anchor.problem.kind, anchor.problem.line) == ("truncated", 2)
    assert anchor.problem.detail == "the chain ends at entry 4, but the checkpoint of T2 anchored entry 6"
    assert anchor.last_good is not None
    assert (anchor.last_good.seq, anchor.last_good.at) == (3, "T1")


def test_a_rewritten_chain_diverges_from_its_checkpoint() -> None:
    """Entries rewritten and rehashed consistently still differ from the hash the checkpoint anchored."""
    original = _chain(5)
    rewritten = original[:2]
    previous = original[1].entry_hash
    for seq in (3, 4, 5):
        sealed = entry_hash("disclosure", seq, AT, "forged", {}, prev_hash=previous)
        rewritten.append(ChainEntry("disclosure", seq, AT, "forged", {}, previous, sealed))
        previous = sealed
    anchor = _meet(rewritten, [_checkpoint_of(original[1]), _checkpoint_of(original[3])])
    assert anchor.problem is not None
    assert (anchor.problem.kind, anchor.problem.line) == ("diverged", 2)
    assert anchor.last_good == _checkpoint_of(original[1])


def test_a_checkpoint_with_the_wrong_count_diverges() -> None:
    """The count is checked as well as the hash: a checkpoint claiming 2 entries at entry 3 does not fit."""
    entries = _chain(3)
    checkpoint = dataclasses.replace(_checkpoint_of(entries[2]), count=2)
    assert _meet(entries, [checkpoint]).problem is not None


def test_an_empty_chain_meets_a_genesis_checkpoint_and_no_other() -> None:
    """A checkpoint of entry 0 with the genesis hash fits an empty chain; one of entry 1 means it was emptied."""
    genesis = sign_checkpoint(ChainHead("disclosure", 0, GENESIS_HASH), AT, NEW)
    assert _meet([], [genesis]).last_good == genesis
    truncated = _meet([], [genesis, _checkpoint_of(_chain(1)[0])]).problem
    assert truncated is not None
    assert truncated.kind == "truncated"
