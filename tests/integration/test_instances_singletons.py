"""Singleton jobs on one PostgreSQL: two instances' overdue watches flag each message once; one writes checkpoints."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import func, select, update

from broker.crypto.ids import MessageIds
from broker.domain.lifecycle import Event
from broker.services.checkpoints import CheckpointJob, CheckpointWriter
from broker.services.overdue import OverdueSweep, OverdueWatch, Swept
from broker.services.receipts import ReceiptWriter
from broker.services.unit_of_work import UnitOfWork
from broker.settings import Settings
from broker.store.singleton import SingletonJob, hold_round_lock
from broker.store.tables import MessageEvent, MessageRecord
from entrypoints.audit_anchor import checkpoint_signer, checkpoint_verification_keys
from entrypoints.audit_commands import retention
from tests.integration.audit_helpers import log_entries, units_on
from tests.integration.instances import PIPELINE, instance_sessions, store_transfers, units_of

_FLAGS_PER_MESSAGE = (
    select(MessageEvent.message_id, func.count())
    .where(MessageEvent.status == str(Event.OVERDUE))
    .group_by(MessageEvent.message_id)
)


def _sweep() -> OverdueSweep:
    """The service's sweep: a message unreceipted an hour after its publication is overdue."""
    return OverdueSweep(ReceiptWriter(MessageIds(PIPELINE.pseudonyms.id_secret)), dt.timedelta(hours=1))


class _HeldSweep(OverdueSweep):
    """The sweep, except that the first round holds its transaction open after sweeping, until `go`."""

    def __init__(self, go: asyncio.Event) -> None:
        super().__init__(ReceiptWriter(MessageIds(PIPELINE.pseudonyms.id_secret)), dt.timedelta(hours=1))
        self.go = go
        self.entered = 0
        self.swept = asyncio.Event()

    async def sweep(self, uow: UnitOfWork) -> Swept:
        """Sweep; the first call then waits for `go` before its unit commits (its flags not yet visible to others)."""
        self.entered += 1
        found = await super().sweep(uow)
        if self.entered == 1:
            self.swept.set()
            await self.go.wait()
        return found


async def test_two_overdue_watches_flag_each_message_once(database_url: str) -> None:
    """B's round while A's has swept but not committed, then more rounds of both: 60 transfers flagged once each."""
    async with instance_sessions(database_url) as a, instance_sessions(database_url) as b:
        ids = await store_transfers(a, [f"KELA-TOTU-LATE{n:02d}" for n in range(60)])
        async with a() as session, session.begin():
            a_month_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)  # past the transfers' 3 working days
            await session.execute(update(MessageRecord).values(published_at=a_month_ago))
        sweep = _HeldSweep(asyncio.Event())
        watches = [OverdueWatch(units_of(s), sweep, interval_s=60) for s in (a, b)]
        held = asyncio.create_task(watches[0].check_once())
        await asyncio.wait_for(sweep.swept.wait(), timeout=10)
        try:  # B skips its round at once: A holds the lock (without it, B would wait on A's rows or flag again)
            overlapping = await asyncio.wait_for(watches[1].check_once(), timeout=10)
        finally:
            sweep.go.set()
        flagged = overlapping + await held
        for _ in range(5):
            rounds = await asyncio.gather(*(w.check_once() for w in watches))
            flagged.extend(m for found in rounds for m in found)
        async with a() as session:
            flags = dict((await session.execute(_FLAGS_PER_MESSAGE)).all())
    assert overlapping == []
    assert sorted(flagged) == sorted(ids)
    assert flags == dict.fromkeys(ids, 1)


async def test_the_round_lock_goes_to_one_transaction_and_is_free_after_it(database_url: str) -> None:
    """While instance A's round holds the overdue lock B's is refused; once A's transaction ends B wins it."""
    async with instance_sessions(database_url) as a, instance_sessions(database_url) as b:
        async with a() as first, first.begin():
            assert await hold_round_lock(first, SingletonJob.OVERDUE_WATCH)
            async with b() as second, second.begin():
                assert not await hold_round_lock(second, SingletonJob.OVERDUE_WATCH)
                assert await hold_round_lock(second, SingletonJob.AUDIT_CHECKPOINTS)  # another job: its own lock
        async with b() as second, second.begin():
            assert await hold_round_lock(second, SingletonJob.OVERDUE_WATCH)


async def test_a_checkpoint_round_writes_only_in_the_instance_holding_the_lock(
    database_url: str, tmp_path: Path
) -> None:
    """While another instance's round holds the checkpoints' lock this job's round writes nothing; after, it does."""
    path = tmp_path / "audit-checkpoints.jsonl"
    settings = Settings(audit_checkpoint_file=path)
    async with units_on(database_url) as units, instance_sessions(database_url) as other:
        await log_entries(units, "disclosure", 2)
        job = CheckpointJob(
            CheckpointWriter(units, path, checkpoint_signer(settings), checkpoint_verification_keys(settings)), 60
        )
        async with other() as holding, holding.begin():
            assert await hold_round_lock(holding, SingletonJob.AUDIT_CHECKPOINTS)
            skipped = await job.run_once()
        written = await job.run_once()
    assert skipped.written == []
    assert [(c.chain, c.seq) for c in written.written] == [("disclosure", 2)]


async def test_a_retention_run_skips_while_another_holds_the_lock(database_url: str) -> None:
    """`silta retention run` on one PostgreSQL: skipped (None) while another run holds the lock, done after it."""
    settings = Settings(database_url=database_url)
    async with instance_sessions(database_url) as other:
        async with other() as holding, holding.begin():
            assert await hold_round_lock(holding, SingletonJob.RETENTION)
            skipped = await retention(settings, 90)
        done = await retention(settings, 90)
    assert skipped is None
    assert done is not None
    assert done.messages == 0
