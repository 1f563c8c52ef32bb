"""A sealer for unit tests of the relay: the record as it is, marked so a test can see it went through."""

from __future__ import annotations

from collections.abc import Sequence

from broker.domain.accepted import OutboundRecord
from broker.services.unit_of_work import UnitOfWork


class MarkingSealer:
    """Passes records through with a `test-sealed` header; `without_key` names recipients it holds back."""

    def __init__(self, without_key: frozenset[str] = frozenset()) -> None:
        self.without_key = without_key

    async def seal_all(self, uow: UnitOfWork, records: Sequence[OutboundRecord]) -> list[OutboundRecord | None]:
        """Each record with the marker, or None for a recipient listed in `without_key`."""
        del uow
        return [
            None
            if r.headers.get("silta-recipient") in self.without_key
            else OutboundRecord(r.topic, r.key, {**r.headers, "test-sealed": "yes"}, r.value)
            for r in records
        ]
