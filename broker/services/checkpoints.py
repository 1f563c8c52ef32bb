"""Writing checkpoints: each chain whose head moved since its last checkpoint gets a new, signed one.

`CheckpointWriter.write_due` is the use case (`silta audit checkpoint` runs it
once); `CheckpointJob` runs it every `SILTA_AUDIT_CHECKPOINT_INTERVAL_S` in the
service, and once more when the service stops. A round reads what other
writers appended, reads the heads, signs the moved ones, and then, under the
file's exclusive lock, reads again what others appended meanwhile and appends
only checkpoints newer than the newest in the file: per chain the file only
moves forward, and two instances never write the same head twice. The file
work runs in a worker thread that opens, locks and closes the file itself, so
a cancelled round never leaves the lock held.

A head that went back, or an entry that no longer has the hash its checkpoint
anchored, is not checkpointed again: the job logs `audit_chain_diverged` (an
alarm for the operator), `silta audit checkpoint` exits 1, and `silta audit
verify` names what differs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.audit.checkpoint_file import locked_round
from broker.audit.checkpoints import (
    ChainHead,
    Checkpoint,
    CheckpointFormatError,
    CheckpointSigner,
    Ed25519Signer,
    parse_line,
    sign_checkpoint,
    signature_problem,
)
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from broker.store.audit_log import chain_heads, hash_at
from broker.store.singleton import SingletonJob, hold_round_lock

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CheckpointRound:
    """What one round wrote, the chains it refused (head went back or diverged), the lines it could not use."""

    written: list[Checkpoint]
    refused: list[str]
    ignored: list[str] = field(default_factory=list)
    """Lines others appended that are malformed or do not verify: `silta audit verify` names them."""


class CheckpointWriter:
    """Appends signed checkpoints of the moved chains to one file; remembers the last per chain."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        path: Path,
        signer: CheckpointSigner,
        keys: Mapping[str, Ed25519PublicKey],
    ) -> None:
        self.units = units
        """The writer's database (the job's election runs on it too)."""
        self.path = path
        self._signer = signer
        self._keys = keys
        self._offset: int | None = None
        self._last: dict[str, Checkpoint] = {}
        self._one_at_a_time = asyncio.Lock()

    async def write_due(self) -> CheckpointRound:
        """Checkpoint every chain whose head moved since its last checkpoint."""
        async with self._one_at_a_time:
            key = self._round_key()
            before = await asyncio.to_thread(self._file_round, self._offset, dict(self._last), [])
            self._learn(before)
            async with self.units() as uow:
                moved = {head: await self._moved(uow, head) for head in await chain_heads(uow.session)}
                at = uow.now.isoformat()
            signed = [sign_checkpoint(head, at, key) for head, due in moved.items() if due]
            after = await asyncio.to_thread(self._file_round, self._offset, dict(self._last), signed)
            self._learn(after)
        refused = [head.chain for head, due in moved.items() if due is None]
        return CheckpointRound(after.written, refused, before.ignored + after.ignored)

    def _round_key(self) -> Ed25519Signer:
        """The one key this round signs with, trusted from now on: a key rotated in after start is not in `keys`."""
        key = self._signer.current()
        self._keys = {**self._keys, key.key_id: key.private_key.public_key()}
        return key

    def _learn(self, outcome: _FileOutcome) -> None:
        self._offset = outcome.offset
        self._last.update(outcome.last)

    def _file_round(self, offset: int | None, known: dict[str, Checkpoint], signed: list[Checkpoint]) -> _FileOutcome:
        """In a worker thread, under the lock: read others' new lines, append the signed ones still newest."""
        outcome = _FileOutcome()

        def decide(lines: list[str]) -> list[str]:
            for line in lines:
                self._read(line, outcome)
            newest = known | outcome.last
            outcome.written = [c for c in signed if c.chain not in newest or c.seq > newest[c.chain].seq]
            outcome.last.update((c.chain, c) for c in outcome.written)
            return [c.to_line() for c in outcome.written]

        outcome.offset = locked_round(self.path, offset, decide)
        return outcome

    def _read(self, line: str, outcome: _FileOutcome) -> None:
        """Keep a line another writer appended if it verifies; else note why it was not used."""
        try:
            checkpoint = parse_line(line)
        except CheckpointFormatError as error:
            outcome.ignored.append(f"malformed ({error})")
            return
        problem = signature_problem(checkpoint, self._keys)
        if problem is not None:
            outcome.ignored.append(f"{problem} (key id {checkpoint.key_id!r})")
            return
        outcome.last[checkpoint.chain] = checkpoint

    async def _moved(self, uow: UnitOfWork, head: ChainHead) -> bool | None:
        """Whether the head moved on from the last checkpoint; None for a head that went back or diverged."""
        last = self._last.get(head.chain)
        if last is not None and (head.seq, head.entry_hash) == (last.seq, last.head_hash):
            return False
        if head.seq == 0 and last is None:
            return False  # an empty chain: nothing to anchor yet
        sound = head.seq > 0 and await hash_at(uow.session, head.chain, head.seq) == head.entry_hash
        if sound and last is not None:
            sound = head.seq > last.seq and await hash_at(uow.session, head.chain, last.seq) == last.head_hash
        return True if sound else None


@dataclass
class _FileOutcome:
    """What one locked look at the file found and did."""

    offset: int | None = None
    last: dict[str, Checkpoint] = field(default_factory=dict)
    written: list[Checkpoint] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


class CheckpointJob:
    """Runs the writer every `interval_s` seconds in the background, and once more as it stops.

    With several instances on one PostgreSQL, a round writes only in the
    instance holding the checkpoints' advisory lock (`broker.store.singleton`),
    kept in a transaction of its own for the whole round; the others skip it.
    """

    def __init__(self, writer: CheckpointWriter, interval_s: float, stop_timeout_s: float = 30.0) -> None:
        self.writer = writer
        self._interval_s = interval_s
        self._stop_timeout_s = stop_timeout_s
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        """Rounds run so far (tests wait on it instead of sleeping)."""

    def start(self) -> None:
        """Start the periodic checkpoints (the first right away)."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def stop(self) -> None:
        """Let the round under way finish, run a last one for what moved since, and stop.

        Nothing is cancelled half-way unless the rounds take longer than
        `stop_timeout_s` (a database that does not answer).
        """
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._stop_timeout_s)
        except TimeoutError:
            log.warning("audit_checkpoint_stop_timed_out", file=str(self.writer.path))
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def run_once(self) -> CheckpointRound:
        """One round; a failure is logged (with its traceback) and the next round tries again."""
        try:
            result = await self._elected_round()
        except Exception:
            log.exception("audit_checkpoint_failed", file=str(self.writer.path))
            result = CheckpointRound([], [])
        self.rounds += 1
        _log_round(result, str(self.writer.path))
        return result

    async def _elected_round(self) -> CheckpointRound:
        """The writer's round if this instance holds the lock; an empty round if another instance does."""
        async with self.writer.units() as election:
            if not await hold_round_lock(election.session, SingletonJob.AUDIT_CHECKPOINTS):
                return CheckpointRound([], [])
            return await self.writer.write_due()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval_s)
        await self.run_once()  # the last round, for what moved since the one before


def _log_round(result: CheckpointRound, file: str) -> None:
    """What the operator's monitoring should see: the checkpoints written, and each refusal as an error."""
    if result.written:
        log.info("audit_checkpoints_written", chains={c.chain: c.seq for c in result.written}, file=file)
    for chain in result.refused:
        log.error("audit_chain_diverged", chain=chain, file=file, hint="run `silta audit verify`")
    for problem in result.ignored:
        log.error("audit_checkpoint_line_invalid", problem=problem, file=file)
