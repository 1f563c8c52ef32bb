"""Checking a chain against its signed checkpoints while it is walked.

Three things must hold for every checkpoint in the file: its signature
verifies with the key its key id names; the chain still holds the entry the
checkpoint names, with that exact hash and entry count; and so the chain is
not shorter than any checkpoint. `check_lines` does the first for the whole
file; an `AnchorCheck` per chain does the other two as the chain's entries
stream past, so the entries are never all in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.chain import GENESIS_HASH, ChainEntry
from broker.audit.checkpoints import Checkpoint, CheckpointFormatError, parse_line, signature_problem


@dataclass(frozen=True)
class FiledCheckpoint:
    """A checkpoint and the line of the file it is on (from 1)."""

    line: int
    checkpoint: Checkpoint


@dataclass(frozen=True)
class AnchorProblem:
    """A checkpoint line that does not verify, or a chain that no longer agrees with one."""

    kind: str
    """`malformed`, `key-unknown`, `signature-invalid`, `unknown-chain`, `diverged` or `truncated`."""
    line: int
    chain: str | None
    detail: str


@dataclass(frozen=True)
class CheckedLines:
    """The file's checkpoints whose signatures verify, by chain, and the lines that do not."""

    valid: dict[str, list[FiledCheckpoint]]
    problems: list[AnchorProblem]
    lines: int


def check_lines(lines: Iterable[tuple[int, str]], keys: Mapping[str, Ed25519PublicKey]) -> CheckedLines:
    """Parse each numbered line and verify its signature; only verified checkpoints count for the chains."""
    valid: dict[str, list[FiledCheckpoint]] = defaultdict(list)
    problems: list[AnchorProblem] = []
    count = 0
    for number, text in lines:
        count += 1
        try:
            checkpoint = parse_line(text)
        except CheckpointFormatError as error:
            problems.append(AnchorProblem("malformed", number, None, str(error)))
            continue
        failure = signature_problem(checkpoint, keys)
        if failure is not None:
            problems.append(AnchorProblem(failure, number, checkpoint.chain, f"key id {checkpoint.key_id!r}"))
            continue
        valid[checkpoint.chain].append(FiledCheckpoint(number, checkpoint))
    return CheckedLines(dict(valid), problems, count)


def unknown_chains(checked: CheckedLines, chains: Iterable[str]) -> list[AnchorProblem]:
    """Signed checkpoints of a chain the database does not have (its head row is gone)."""
    known = set(chains)
    return [
        AnchorProblem("unknown-chain", filed.line, chain, f"a checkpoint of chain {chain!r}, which the log lacks")
        for chain, filed_list in checked.valid.items()
        if chain not in known
        for filed in filed_list
    ]


class AnchorCheck:
    """One chain's checkpoints, met one by one as the chain's entries are fed in sequence order."""

    def __init__(self, chain: str, filed: Iterable[FiledCheckpoint]) -> None:
        self.chain = chain
        self.checkpoints = 0
        self.last_good: Checkpoint | None = None
        """The newest checkpoint (by sequence number) the chain still agrees with."""
        self._due: dict[int, list[FiledCheckpoint]] = defaultdict(list)
        for item in filed:
            self._due[item.checkpoint.seq].append(item)
            self.checkpoints += 1
        self._problem = self._meet(0, GENESIS_HASH, 0)

    @property
    def problem(self) -> AnchorProblem | None:
        """The first checkpoint the chain does not agree with, so far."""
        return self._problem

    def feed(self, entry: ChainEntry, count: int) -> AnchorProblem | None:
        """After the chain verifier accepted `entry` as the `count`th entry: the checkpoints at its seq must fit."""
        if self._problem is None:
            self._problem = self._meet(entry.seq, entry.entry_hash, count)
        return self._problem

    def finish(self, last_seq: int) -> AnchorProblem | None:
        """After the chain's last entry (`last_seq`): a checkpoint further on means entries were cut off the end."""
        beyond = [item for seq, items in self._due.items() if seq > last_seq for item in items]
        if self._problem is None and beyond:
            furthest = max(beyond, key=lambda item: item.checkpoint.seq)
            anchored = furthest.checkpoint
            self._problem = AnchorProblem(
                "truncated",
                furthest.line,
                self.chain,
                f"the chain ends at entry {last_seq},"
                f" but the checkpoint of {anchored.at} anchored entry {anchored.seq}",
            )
        return self._problem

    def _meet(self, seq: int, entry_hash: str, count: int) -> AnchorProblem | None:
        """Check and drop the checkpoints at `seq`; the first that does not fit is the problem."""
        for item in self._due.pop(seq, []):
            checkpoint = item.checkpoint
            if checkpoint.head_hash != entry_hash or checkpoint.count != count:
                return AnchorProblem(
                    "diverged",
                    item.line,
                    self.chain,
                    f"entry {seq} is not the one the checkpoint of {checkpoint.at} anchored (hash or count differs)",
                )
            if self.last_good is None or checkpoint.seq >= self.last_good.seq:
                self.last_good = checkpoint
        return None
