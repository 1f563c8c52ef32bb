"""The operator's checks on the logs: each hash chain walked from its start to its head and past its checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.audit.anchor import AnchorCheck, AnchorProblem, CheckedLines, unknown_chains
from broker.audit.chain import ChainProblem, ChainVerifier
from broker.audit.checkpoints import ChainHead, Checkpoint
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import chain_entries, chain_heads


@dataclass(frozen=True)
class ChainReport:
    """What walking one chain showed: its entries, its own problem, its checkpoints' problem."""

    chain: str
    entries: int
    head_seq: int
    problem: ChainProblem | None
    anchor_problem: AnchorProblem | None
    checkpoints: int
    last_good: Checkpoint | None
    """The newest checkpoint the chain still agrees with, as far as the chain verified."""


@dataclass(frozen=True)
class AuditReport:
    """Every chain's report, and the checkpoint lines that do not verify (None: there was no checkpoint file)."""

    chains: list[ChainReport]
    checked: CheckedLines | None
    file_problems: list[AnchorProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if every chain verifies, on its own and against every checkpoint, and every line verifies."""
        chains_ok = all(r.problem is None and r.anchor_problem is None for r in self.chains)
        return chains_ok and not self.file_problems


async def verify_anchored(uow: UnitOfWork, checked: CheckedLines | None) -> AuditReport:
    """Walk each chain once, checking its hashes and meeting its signed checkpoints (`checked`, if a file exists)."""
    heads = await chain_heads(uow.session)
    reports = [await _walk(uow, head, checked) for head in heads]
    problems = [] if checked is None else [*checked.problems, *unknown_chains(checked, [h.chain for h in heads])]
    return AuditReport(reports, checked, sorted(problems, key=lambda p: p.line))


async def _walk(uow: UnitOfWork, head: ChainHead, checked: CheckedLines | None) -> ChainReport:
    """One chain, streamed: each entry through the chain verifier, then past the checkpoints at its seq."""
    verifier = ChainVerifier(head.chain)
    anchor = AnchorCheck(head.chain, [] if checked is None else checked.valid.get(head.chain, []))
    problem: ChainProblem | None = None
    last_seq = 0
    async for entry in chain_entries(uow.session, head.chain):
        problem = verifier.feed(entry)
        if problem is not None:
            break  # entries past a broken link prove nothing; the checkpoints met so far still count
        anchor.feed(entry, verifier.count)
        last_seq = entry.seq
    else:
        problem = verifier.finish(head.seq, head.entry_hash)
        anchor.finish(last_seq)
    return ChainReport(
        head.chain, verifier.count, head.seq, problem, anchor.problem, anchor.checkpoints, anchor.last_good
    )
