"""Operator commands on the logs and the registry: verify and checkpoint the chains, data subjects, retention.

Each command opens its own engine, runs one use case of the service layer in
one unit of work, commits, and disposes of the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from broker.audit.anchor import check_lines
from broker.audit.checkpoint_file import numbered_lines
from broker.audit.pseudonym import Pseudonymiser
from broker.domain.clock import SystemClock
from broker.domain.errors import Rejection
from broker.domain.mandates import MandateRow
from broker.services.audit import AuditReport, verify_anchored
from broker.services.checkpoints import CheckpointRound
from broker.services.data_subject import DataSubjectQuery
from broker.services.mandate_registry import ImportResult, MandateRegistry
from broker.services.retention import RetentionResult, run_retention
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from broker.store.singleton import SingletonJob, hold_round_lock
from entrypoints.audit_anchor import checkpoint_verification_keys, checkpoint_writer


@asynccontextmanager
async def units_for(settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    """Units of work on the configured database, for one command."""
    engine = create_async_engine(settings.database_url)
    try:
        yield UnitOfWorkFactory(async_sessionmaker(engine, expire_on_commit=False), SystemClock(), lambda: None)
    finally:
        await engine.dispose()


async def verify(
    settings: Settings, checkpoint_file: Path | None = None, extra_keys: Mapping[str, Ed25519PublicKey] | None = None
) -> AuditReport:
    """Verify every chain in the configured database, and against the checkpoint file if there is one."""
    path = checkpoint_file or settings.audit_checkpoint_file
    keys = checkpoint_verification_keys(settings, extra_keys)
    checked = check_lines(numbered_lines(path), keys) if path.exists() else None
    async with units_for(settings) as units, units() as uow:
        return await verify_anchored(uow, checked)


async def checkpoint(settings: Settings) -> CheckpointRound:
    """Checkpoint now each chain whose head moved since its last checkpoint (as the service's job does)."""
    async with units_for(settings) as units:
        return await checkpoint_writer(settings, units).write_due()


async def retention(settings: Settings, days: int) -> RetentionResult | None:
    """Empty bodies whose last step is more than `days` old, then unneeded attachments; None if a run is under way.

    Runs from several hosts' schedulers on one PostgreSQL are elected like the
    service's jobs: the one holding the retention lock purges, the others skip.
    """
    async with units_for(settings) as units, units() as uow:
        if not await hold_round_lock(uow.session, SingletonJob.RETENTION):
            return None
        result = await run_retention(uow, days)
        await uow.commit()
    return result


async def subject_report(settings: Settings, identity_code: str, operator: str) -> list[str]:
    """Lines describing every logged disclosure and usage of one person's data; the look-up is logged too."""
    query = DataSubjectQuery(Pseudonymiser.from_file(settings.pseudonym_key_file))
    try:
        async with units_for(settings) as units, units() as uow:
            answer = await query.answer(uow, identity_code, operator, "operator")
            await uow.commit()
    except Rejection as rejection:
        return [f"error: {rejection.errors[0].reason if rejection.errors else rejection.detail}"]
    entries = sorted((*answer.disclosures, *answer.usages), key=lambda e: (e.chain, e.seq))
    lines = [
        f"{e.recorded_at}\t{e.chain}\t" + "; ".join(f"{k}={v}" for k, v in sorted(e.payload.items())) for e in entries
    ]
    return lines or ["no disclosures or usages logged"]


async def store_mandates(settings: Settings, rows: list[MandateRow]) -> ImportResult:
    """Store checked rows in one unit of work."""
    registry = MandateRegistry(Pseudonymiser.from_file(settings.pseudonym_key_file))
    async with units_for(settings) as units, units() as uow:
        result = await registry.store(uow, rows)
        await uow.commit()
    return result
