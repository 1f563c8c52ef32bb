"""Operator commands on the logs: verify the chains, answer a data subject's question."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from broker.audit.chain import ChainProblem
from broker.audit.pseudonym import Pseudonymiser
from broker.domain.identity_code import identity_code_problem
from broker.settings import Settings
from broker.store.audit_log import append_entries, entries_about, verify_log
from broker.store.retention import purge_attachments, purge_bodies, purge_parked


async def verify(settings: Settings) -> tuple[dict[str, int], ChainProblem | None]:
    """Verify every chain in the configured database."""
    engine = create_async_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine)() as session:
            return await verify_log(session)
    finally:
        await engine.dispose()


async def run_retention(settings: Settings, days: int) -> tuple[int, int, dt.datetime]:
    """Empty bodies whose last step is more than `days` old, then unneeded attachments; counts and the cutoff."""
    now = dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=days)
    engine = create_async_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            messages = await purge_bodies(session, cutoff, now)
            attachments = await purge_attachments(session, cutoff, now)
            await purge_parked(session, cutoff)
    finally:
        await engine.dispose()
    return len(messages), len(attachments), cutoff


async def subject_report(settings: Settings, identity_code: str, operator: str) -> list[str]:
    """Lines describing every logged disclosure and usage of one person's data; the look-up is logged too."""
    problem = identity_code_problem(identity_code)
    if problem is not None:
        return [f"error: {problem.reason}"]
    subject = Pseudonymiser.from_file(settings.pseudonym_key_file).of(identity_code)
    engine = create_async_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            entries = await entries_about(session, subject)
            usage = {
                "user": operator,
                "party": "operator",
                "purpose": "answer the data subject's request (703/2023 11 §)",
                "data": ["disclosure log", "usage log"],
            }
            await append_entries(session, "usage", [(subject, usage)], dt.datetime.now(dt.UTC))
    finally:
        await engine.dispose()
    lines = [
        f"{e.recorded_at}\t{e.chain}\t" + "; ".join(f"{k}={v}" for k, v in sorted(e.payload.items())) for e in entries
    ]
    return lines or ["no disclosures or usages logged"]
