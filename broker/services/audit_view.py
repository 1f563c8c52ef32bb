"""What the console's audit page shows: each chain's head, and on demand its verification against the checkpoints.

Walking a chain reads every entry it ever had (twelve years of them), so the
page never does it on a plain load: it shows the heads (one query) and walks
the chains only when an operator asks (a POST), with the same use case as
`silta audit verify` (`broker.services.audit.verify_anchored`). It reads and
writes nothing else: nothing is committed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.anchor import CheckedLines, check_lines
from broker.audit.checkpoint_file import numbered_lines
from broker.audit.checkpoints import CheckpointFormatError, parse_line, signature_problem
from broker.crypto.keyring import signing_keys_ever
from broker.services.audit import ChainReport, verify_anchored
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import chain_heads

SHOWN_CHECKPOINTS = 20
"""The newest checkpoints shown per chain (the file holds one per chain every few minutes, for years)."""


@dataclass(frozen=True)
class CheckpointRow:
    """One checkpoint line of a chain: where it is, what it attests, and whether its signature verifies."""

    line: int
    seq: int
    at: str
    key_id: str
    signature_ok: bool


@dataclass(frozen=True)
class ChainView:
    """One chain on the audit page."""

    chain: str
    head_seq: int
    verdict: str | None = None
    """None: not verified on this page yet; `ok`, or what is broken where."""
    broken_at: int | None = None
    checkpoints: tuple[CheckpointRow, ...] = ()


async def chain_head_views(uow: UnitOfWork) -> list[ChainView]:
    """Each chain's name and head, without walking it."""
    return [ChainView(head.chain, head.seq) for head in await chain_heads(uow.session)]


async def verify_chains(uow: UnitOfWork, checkpoint_file: Path, key_dir: Path) -> list[ChainView]:
    """Walk every chain against the checkpoint file (if there is one) and every signing key the ring has held.

    The same check as `silta audit verify`, with the service's own key ring.
    """
    checked, rows = await asyncio.to_thread(_read_checkpoints, checkpoint_file, key_dir)  # file I/O and signatures
    report = await verify_anchored(uow, checked)
    return [_view(chain, rows) for chain in report.chains]


def _read_checkpoints(path: Path, key_dir: Path) -> tuple[CheckedLines | None, dict[str, list[CheckpointRow]]]:
    if not path.exists():
        return None, {}
    keys = signing_keys_ever(key_dir) if (key_dir / "ring.json").exists() else {}
    return check_lines(numbered_lines(path), keys), _checkpoint_rows(path, keys)


def _view(chain: ChainReport, rows: Mapping[str, list[CheckpointRow]]) -> ChainView:
    verdict, broken_at = "ok", None
    if chain.problem is not None:
        verdict, broken_at = f"broken: {chain.problem.kind}", chain.problem.seq
    elif chain.anchor_problem is not None:
        verdict = f"disagrees with checkpoint on line {chain.anchor_problem.line}: {chain.anchor_problem.kind}"
    return ChainView(
        chain.chain, chain.head_seq, verdict, broken_at, tuple(rows.get(chain.chain, [])[-SHOWN_CHECKPOINTS:])
    )


def _checkpoint_rows(path: Path, keys: Mapping[str, Ed25519PublicKey]) -> dict[str, list[CheckpointRow]]:
    """Every well-formed line of the file, by chain, each with whether its signature verifies."""
    rows: dict[str, list[CheckpointRow]] = defaultdict(list)
    for number, text in numbered_lines(path):
        try:
            checkpoint = parse_line(text)
        except CheckpointFormatError:
            continue  # a malformed line names no chain; `silta audit verify` lists it
        ok = signature_problem(checkpoint, keys) is None
        rows[checkpoint.chain].append(CheckpointRow(number, checkpoint.seq, checkpoint.at, checkpoint.key_id, ok))
    return rows
