"""What `silta audit verify` and `silta audit checkpoint` print: one line per finding, failures first."""

from __future__ import annotations

from pathlib import Path

from broker.audit.anchor import AnchorProblem
from broker.audit.checkpoints import Checkpoint
from broker.services.audit import AuditReport, ChainReport
from broker.services.checkpoints import CheckpointRound

_KINDS = {"truncated": "is cut short", "diverged": "no longer matches its checkpoints"}
_ALONE = "that alone does not show entries cut off the end or rewritten"
_UNANCHORED = (
    "the chains were checked only against the database's own head rows, which whoever can write the database"
    " can rewrite (run `silta audit checkpoint`, and keep a copy of the file elsewhere)"
)


def verify_lines(report: AuditReport, path: Path) -> list[str]:
    """The lines of `silta audit verify`: every failure named, then what verified."""
    failures = [line for chain in report.chains for line in _chain_failures(chain)]
    failures += [_file_failure(problem, path) for problem in report.file_problems]
    counts = ", ".join(f"{chain.entries} {chain.chain} entries" for chain in report.chains)
    if not any(chain.problem for chain in report.chains):
        anchored = not any(chain.anchor_problem for chain in report.chains)
        failures.append(
            f"ok: {counts} verify" if anchored else f"the entries link up on their own ({counts}); {_ALONE}"
        )
    return [*failures, _anchor_summary(report, path)]


def _chain_failures(chain: ChainReport) -> list[str]:
    lines = []
    if chain.problem is not None:
        problem = chain.problem
        lines.append(f"FAILED: the {chain.chain} log is {problem.kind} at entry {problem.seq}; {_last_good(chain)}")
    anchor = chain.anchor_problem
    if anchor is not None:
        lines.append(
            f"FAILED: the {chain.chain} log {_KINDS[anchor.kind]}: {anchor.detail} (checkpoint file line"
            f" {anchor.line}); {_last_good(chain)}"
        )
    return lines


def _last_good(chain: ChainReport) -> str:
    good = chain.last_good
    if good is None:
        return "no earlier checkpoint of it verifies" if chain.checkpoints else "it has no checkpoint"
    return f"last good checkpoint: entry {good.seq} at {good.at}"


def _file_failure(problem: AnchorProblem, path: Path) -> str:
    hint = "; give its public key with --public-key KID=PEM" if problem.kind == "key-unknown" else ""
    return f"FAILED: {path} line {problem.line}: {problem.kind} ({problem.detail}){hint}"


def _anchor_summary(report: AuditReport, path: Path) -> str:
    checked = report.checked
    if checked is None:
        return f"no checkpoint file at {path}: {_UNANCHORED}"
    if checked.lines == 0:
        return f"no checkpoints in {path} yet: {_UNANCHORED}"
    anchored = ", ".join(_anchored(chain) for chain in report.chains)
    if report.ok:
        return f"ok: {checked.lines} checkpoints in {path} verify; {anchored}"
    return f"{checked.lines} checkpoint lines in {path}; still anchored: {anchored}"


def _anchored(chain: ChainReport) -> str:
    good = chain.last_good
    if good is None:
        return (
            f"{chain.chain} to none of its checkpoints" if chain.checkpoints else f"{chain.chain} not yet checkpointed"
        )
    return f"{chain.chain} to entry {good.seq} of {chain.entries} ({good.at})"


def checkpoint_lines(result: CheckpointRound, path: Path) -> list[str]:
    """The lines of `silta audit checkpoint`: what was written, what was refused, or that nothing moved."""
    lines = [f"checkpointed the {c.chain} log at entry {c.seq} ({_key(c)}) in {path}" for c in result.written]
    lines += [
        f"FAILED: the {chain} log went back or no longer matches its last checkpoint: not checkpointed;"
        " run `silta audit verify`"
        for chain in result.refused
    ]
    lines += [
        f"warning: a line in {path} was not used: {problem}; run `silta audit verify`" for problem in result.ignored
    ]
    return lines or [f"nothing to checkpoint: no log moved since its last checkpoint in {path}"]


def _key(checkpoint: Checkpoint) -> str:
    return f"key {checkpoint.key_id}"
