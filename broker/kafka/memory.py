"""An in-memory `Publisher` for unit tests of the core: it can simulate an outage."""

from __future__ import annotations

from collections.abc import Sequence

from broker.domain.accepted import OutboundRecord
from broker.kafka.publisher import PublishError


class InMemoryPublisher:
    """Keeps published records in a list; fails the next `outages` calls as Kafka being down would."""

    def __init__(self, outages: int = 0) -> None:
        self.records: list[OutboundRecord] = []
        self.outages = outages

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        """Append the records in order, or raise `PublishError` while an outage lasts."""
        if self.outages > 0:
            self.outages -= 1
            raise PublishError("simulated outage")
        self.records.extend(records)
