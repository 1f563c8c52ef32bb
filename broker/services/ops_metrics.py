"""The operations gauges on `/metrics`, and the delivery-latency observation the relay makes.

Backlog, parked, open and overdue counts and each party's last delivery come
from the database: the `/metrics` handler awaits `OperationsGauges.refresh`
once per scrape (five grouped queries), never per request. Consumer lag, in
records and in seconds, is read from the inbound consumer's own positions and
record timestamps at collection time, with no query at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.metrics import DELIVERY_SECONDS
from broker.store.ops_counts import (
    accepted_times,
    last_delivery_by_party,
    open_requests_by_party,
    outbox_pending_by_recipient,
    overdue_by_party,
    parked_by_reason,
)

LagSource = Callable[[], dict[tuple[str, int], int]]
LagSecondsSource = Callable[[], dict[tuple[str, int], float]]


@dataclass
class _Snapshot:
    outbox: dict[str, int] = field(default_factory=dict)
    parked: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    open_requests: dict[str, int] = field(default_factory=dict)
    last_delivery: dict[str, dt.datetime] = field(default_factory=dict)


class OperationsGauges(Collector):
    """A Prometheus collector of the last counts read, plus the consumer's lag as it is now."""

    def __init__(self) -> None:
        self._snapshot = _Snapshot()
        self._lag: LagSource = dict
        self._lag_seconds: LagSecondsSource = dict

    def watch_lag(self, source: LagSource, seconds: LagSecondsSource = dict) -> None:
        """Read consumer lag from `source` and `seconds` (the running inbound consumer's `lag`, `lag_seconds`)."""
        self._lag = source
        self._lag_seconds = seconds

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Read the database counts once; the next collection reports them."""
        async with sessions() as session:
            self._snapshot = _Snapshot(
                await outbox_pending_by_recipient(session),
                await parked_by_reason(session),
                await overdue_by_party(session),
                await open_requests_by_party(session),
                await last_delivery_by_party(session),
            )

    def collect(self) -> Iterator[Metric]:
        """The gauges; a label value whose count fell to zero disappears (Grafana treats it as 0)."""
        snap = self._snapshot
        yield _gauge("silta_outbox_pending", "Outbox records not yet published, by recipient", "recipient", snap.outbox)
        yield _gauge(
            "silta_parked_records",
            "Parked records from organisers' topics not yet replayed or discarded, by reason code",
            "reason",
            snap.parked,
        )
        yield _gauge(
            "silta_overdue_requests",
            "Open messages flagged overdue, by the party that owes them",
            "party",
            snap.overdue,
        )
        yield _gauge(
            "silta_open_requests",
            "Open requests for further information, by the party asked",
            "party",
            snap.open_requests,
        )
        yield _gauge(
            "silta_last_delivery_timestamp_seconds",
            "When a message was last delivered to each party (Unix time)",
            "party",
            {party: at.timestamp() for party, at in snap.last_delivery.items()},
        )
        yield from self._lag_gauges()

    def _lag_gauges(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "silta_consumer_lag_records",
            "Records on an organiser's partition not yet handled by Silta",
            labels=["topic", "partition"],
        )
        for (topic, partition), records in sorted(self._lag().items()):
            lag.add_metric([topic, str(partition)], records)
        yield lag
        seconds = GaugeMetricFamily(
            "silta_consumer_lag_seconds",
            "Age of the oldest record on an organiser's partition not yet handled (bounded above between batches)",
            labels=["topic", "partition"],
        )
        for (topic, partition), age in sorted(self._lag_seconds().items()):
            seconds.add_metric([topic, str(partition)], age)
        yield seconds


def _gauge(name: str, documentation: str, label: str, counts: Mapping[str, float]) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(counts.items()):
        gauge.add_metric([value], count)
    return gauge


OPERATIONS_GAUGES = OperationsGauges()
REGISTRY.register(OPERATIONS_GAUGES)


async def observe_delivery(session: AsyncSession, message_ids: Sequence[str], published_at: dt.datetime) -> None:
    """Observe, for each message just published, how long after its acceptance that was."""
    for accepted_at in (await accepted_times(session, message_ids)).values():
        DELIVERY_SECONDS.observe(max((published_at - accepted_at).total_seconds(), 0.0))
