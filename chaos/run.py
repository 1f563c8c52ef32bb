"""One chaos run: stage, workload and faults together, then the drain and the checker's verdict."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from chaos import checker
from chaos.faults import Injector, fault_counts, plan_faults
from chaos.fleet import connection
from chaos.guardian import GuardianPortal
from chaos.kela import Kela, KelaApi
from chaos.ledger import Ledger
from chaos.organisers import CaseSystem
from chaos.stage import Stage, staged
from chaos.summary import Findings, Summary, judge
from chaos.workload import Workload

log = logging.getLogger("chaos")
ORGANISERS = ("hva-08", "hva-90")


async def run(
    work: Path, messages: int, seed: int, *, counts: dict[str, int] | None = None, brokers: int = 3
) -> Summary:
    """Run `messages` messages under the faults `seed` plans (`counts` of each kind, default scaled); the summary.

    `brokers`: 3 runs on the local three-node cluster, 1 on the single broker.
    """
    started = time.monotonic()
    async with staged(work, brokers=brokers) as stage:
        ledger = Ledger()
        api = KelaApi([i.base_url for i in stage.instances])
        try:
            findings = await _drive(stage, api, ledger, messages, seed, counts=counts)
        finally:
            await api.close()
    findings.seconds = time.monotonic() - started
    return judge(ledger, findings)


async def _drive(
    stage: Stage, api: KelaApi, ledger: Ledger, messages: int, seed: int, *, counts: dict[str, int] | None
) -> Findings:
    rng = random.Random(seed)
    kela = Kela(api, stage.token("kela"), ledger)
    await kela.upload_example_attachment()
    guardian = GuardianPortal(api, stage.token("guardian-portal"), stage.token("silta-admin"), stage.token_key, ledger)
    await guardian.register_mandate()
    plan = plan_faults(rng, messages, fault_counts(messages) if counts is None else counts)
    injector = Injector(stage, plan, lambda: len(ledger.planned), stage.proxy, stage.proxied)
    async with contextlib.AsyncExitStack() as parties:
        systems = {org: await parties.enter_async_context(CaseSystem(org, stage, ledger)) for org in ORGANISERS}
        stop = asyncio.Event()
        background = [asyncio.create_task(s.run()) for s in systems.values()]
        background.append(asyncio.create_task(kela.read_inbox(stop)))
        firing = asyncio.create_task(injector.run())
        workload = Workload(kela, guardian, systems, ledger, messages, rng, injector.gate)
        await workload.run()
        await firing
        log.warning("workload and faults done: %d sent; draining", len(ledger.planned))
        await _drain(ledger, lambda: checker.outbox_left(stage.postgres.url()))
        stop.set()
        for task in background:
            task.cancel()
        await asyncio.wait(background, timeout=15)
    return await _findings(stage, api, injector)


def _settled(ledger: Ledger) -> bool:
    """Every accepted message seen by its recipient and every organiser's message receipted."""
    unseen = [
        e for e in ledger.accepted.values() if e.recipient not in {"silta", "?"} and not ledger.seen[e.message_id]
    ]
    unreceipted = [
        e
        for e in ledger.accepted.values()
        if e.sender.startswith("hva-") and not ledger.technical_receipts.get(e.message_id)
    ]
    return not unseen and not unreceipted


async def _drain(ledger: Ledger, outbox: Callable[[], object], quiet_s: float = 90.0) -> None:
    """Wait until the run has settled, or nothing has moved for `quiet_s`."""
    last, moved = -1, time.monotonic()
    while time.monotonic() - moved < quiet_s:
        pending = await outbox()  # type: ignore[misc]
        if _settled(ledger) and pending == 0:
            return
        progress = sum(ledger.seen.values()) + len(ledger.absorbed)
        if progress != last:
            last, moved = progress, time.monotonic()
        await asyncio.sleep(1)


async def _findings(stage: Stage, api: KelaApi, injector: Injector) -> Findings:
    topics = await checker.scan_to_topics(connection(stage.fleet))
    inbox = await checker.scan_inbox(api, stage.token("kela"))
    outbox_left = await checker.outbox_left(stage.postgres.url())
    audit_ok, audit_lines = await asyncio.to_thread(checker.audit_verify, stage.instances[0].env)
    skipped = Counter(f.kind for f in injector.skipped)
    return Findings(topics, inbox, outbox_left, audit_ok, audit_lines, injector.counts(), skipped)
