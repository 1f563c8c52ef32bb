"""Two relays on one PostgreSQL share the outbox: every row once, each case in order, woken across instances."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy import func, select, text

from broker.domain.accepted import OutboundRecord
from broker.services.relay import OutboxRelay
from broker.store.messages import pending_records
from broker.store.outbox_signal import OutboxSignal, listener_dsn
from broker.store.tables import OutboxRecord
from tests.integration.instances import SharedLogPublisher, instance_sessions, store_transfers, units_of
from tests.support.sealing import MarkingSealer
from tests.support.waiting import wait_until

_SLOW_POLL_S = 30.0


def _by_case(records: list[OutboundRecord]) -> dict[str, list[str]]:
    """Message ids per record key (case), in the order they were published."""
    cases: dict[str, list[str]] = defaultdict(list)
    for record in records:
        cases[record.key].append(record.headers["silta-message-id"])
    return cases


async def test_two_relays_publish_every_row_once_and_keep_each_cases_order(database_url: str) -> None:
    """500 rows over 25 cases, two relays at once: each row published once overall, each case in write order."""
    shared: list[OutboundRecord] = []
    async with instance_sessions(database_url) as a, instance_sessions(database_url) as b:
        cases = [f"KELA-TOTU-CASE{n % 25:02d}" for n in range(500)]
        ids = await store_transfers(a, cases)
        async with a() as session:
            rows = await session.scalar(select(func.count()).select_from(OutboxRecord))
        publishers = [SharedLogPublisher(shared), SharedLogPublisher(shared)]
        relays = [
            OutboxRelay(units_of(s), p, MarkingSealer(), batch_size=20, poll_interval_s=_SLOW_POLL_S)
            for s, p in zip((a, b), publishers, strict=True)
        ]
        for relay in relays:
            relay.start()
        try:
            await wait_until(lambda: len(shared) >= (rows or 0), timeout_s=60, what="every row published")
        finally:
            for relay in relays:
                await relay.stop()
    published = [r.headers["silta-message-id"] for r in shared]
    assert rows == 500
    assert sorted(published) == sorted(ids)  # each row once overall
    written: dict[str, list[str]] = defaultdict(list)
    for message_id, case in zip(ids, cases, strict=True):
        written[case].append(message_id)
    assert _by_case(shared) == written  # the shared "topic": each case in write order across both relays
    for publisher in publishers:  # and so in each relay's own output
        for case, got in _by_case(publisher.records).items():
            assert got == [m for m in written[case] if m in set(got)]


async def test_a_relay_takes_other_cases_while_another_relay_holds_one(database_url: str) -> None:
    """While instance A's transaction holds case 1's rows, B's round returns at once with case 2's rows only."""
    async with instance_sessions(database_url) as a, instance_sessions(database_url) as b:
        first = await store_transfers(a, ["KELA-TOTU-ONE", "KELA-TOTU-ONE"])
        second = await store_transfers(a, ["KELA-TOTU-TWO"])
        publisher = SharedLogPublisher([])
        relay_b = OutboxRelay(units_of(b), publisher, MarkingSealer(), batch_size=50, poll_interval_s=_SLOW_POLL_S)
        async with a() as holding, holding.begin():
            claimed = await pending_records(holding, limit=1)  # the oldest key, and its first row
            assert [p.message_id for p in claimed] == first[:1]
            assert await asyncio.wait_for(relay_b.relay_once(), timeout=10) == 1
            assert [r.headers["silta-message-id"] for r in publisher.records] == second
        assert await relay_b.relay_once() == 2  # A let go without publishing: B takes case 1, in order
    assert [r.headers["silta-message-id"] for r in publisher.records] == second + first


async def test_a_row_written_by_one_instance_wakes_the_relay_of_another(database_url: str) -> None:
    """Instance A commits a row; B's relay (polling every 30 s) publishes it within seconds, woken by NOTIFY."""
    async with instance_sessions(database_url) as a, instance_sessions(database_url) as b:
        publisher = SharedLogPublisher([])
        relay_b = OutboxRelay(units_of(b), publisher, MarkingSealer(), batch_size=50, poll_interval_s=_SLOW_POLL_S)
        dsn = listener_dsn(a.kw["bind"].url)
        signal_a, signal_b = OutboxSignal(dsn, lambda: None), OutboxSignal(dsn, relay_b.wake)
        signal_a.start()
        signal_b.start()
        relay_b.start()
        try:
            await wait_until(lambda: signal_a.listening.is_set() and signal_b.listening.is_set(), what="listening")
            await _settled(relay_b)
            ids = await store_transfers(a, ["KELA-TOTU-WAKE"], on_commit=signal_a.announce)
            await wait_until(lambda: len(publisher.records) == 1, timeout_s=10, what="B woken by A's notice")
        finally:
            await relay_b.stop()
            await signal_a.stop()
            await signal_b.stop()
    assert [r.headers["silta-message-id"] for r in publisher.records] == ids


async def test_the_listener_reconnects_after_its_connection_is_killed(database_url: str) -> None:
    """The LISTEN connection terminated by the server comes back and hears the next notice (and wakes once on it)."""
    heard: list[int] = []
    async with instance_sessions(database_url) as a:
        dsn = listener_dsn(a.kw["bind"].url)
        signal = OutboxSignal(dsn, lambda: heard.append(1), retry_s=0.05)
        other = OutboxSignal(dsn, lambda: None)
        signal.start()
        other.start()
        try:
            await wait_until(lambda: signal.listening.is_set() and other.listening.is_set(), what="listening")
            first_pid = signal.server_pid
            async with a() as session:
                await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
            await wait_until(lambda: signal.listening.is_set() and signal.server_pid != first_pid, what="reconnected")
            before = len(heard)
            other.announce()
            await wait_until(lambda: len(heard) > before, what="the notice after the reconnection")
        finally:
            await signal.stop()
            await other.stop()
    assert len(heard) >= 3  # the first connection, the reconnection, the notice


async def _settled(relay: OutboxRelay) -> None:
    """Let the relay's first round (on start, with nothing to publish) finish, so only a wake-up can start another."""
    await relay.relay_once()
