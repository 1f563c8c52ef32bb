"""Watching the relay's publish attempts, to wait on them instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from broker.domain.accepted import OutboundRecord
from broker.kafka.publisher import KafkaPublisher, PublishError


@dataclass
class FailedPublishes:
    """When each failed `KafkaPublisher.publish` call began (monotonic clock)."""

    started_at: list[float] = field(default_factory=list)

    def since(self, moment: float) -> int:
        """How many failed attempts began at or after `moment`."""
        return sum(1 for started in self.started_at if started >= moment)


def watch_failed_publishes(monkeypatch: pytest.MonkeyPatch) -> FailedPublishes:
    """Record every failed publish attempt, for the rest of the test; publishing itself is unchanged."""
    failures = FailedPublishes()
    original = KafkaPublisher.publish

    async def publish(self: KafkaPublisher, records: Sequence[OutboundRecord]) -> None:
        started = time.monotonic()
        try:
            await original(self, records)
        except PublishError:
            failures.started_at.append(started)
            raise

    monkeypatch.setattr(KafkaPublisher, "publish", publish)
    return failures
