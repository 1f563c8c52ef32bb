"""Replaying parked records one unit of work each, as the consumer handles records: a failure stays with its record.

The driver behind every channel's replay (REST, CLI, console), like
`record_processing.RecordProcessor` for the consumer: each record is replayed
in a unit of its own, committed when it has an outcome, so one record's
failure never undoes another's replay. A failure of Silta's own (not a
rejection) rolls that unit back and is noted on the row as `internal-error`
with a reference, in a second unit; a transient fault (the database away)
propagates, and the rows stay as they were.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import structlog

from broker.domain.dead_letters import DeadLetterFilter, ReplayCounts, ReplayResult
from broker.domain.errors import Rejection
from broker.services.dead_letters import DeadLetters
from broker.services.faults import is_transient
from broker.services.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger(__name__)

ReplayProgress = Callable[[ReplayResult], None]


class ReplayBatch:
    """Replays one parked record, or every one a filter matches, each in its own committed unit."""

    def __init__(self, units: UnitOfWorkFactory, dead_letters: DeadLetters) -> None:
        self._units = units
        self._dead_letters = dead_letters

    async def matching(self, wanted: DeadLetterFilter) -> list[int]:
        """The ids a replay of `wanted` would try, oldest first."""
        async with self._units() as uow:
            return await self._dead_letters.matching(uow, wanted)

    async def replay_one(self, record_id: int) -> ReplayResult:
        """Replay one record to an outcome; `parked-record-not-found` for an unknown id."""
        try:
            async with self._units() as uow:
                result = await self._dead_letters.replay(uow, record_id)
                await uow.commit()
        except Rejection:
            raise
        except Exception as error:
            if is_transient(error):
                raise
            return await self._note_failure(record_id, error)
        log.info("parked_replayed", record=record_id, outcome=str(result.outcome))
        return result

    async def replay_each(self, record_ids: Sequence[int], progress: ReplayProgress | None = None) -> ReplayCounts:
        """Replay each record in turn (one unit each); `progress` hears each outcome as it is committed."""
        counts = ReplayCounts()
        for record_id in record_ids:
            result = await self.replay_one(record_id)
            counts.add(result.outcome)
            if progress is not None:
                progress(result)
        return counts

    async def replay_matching(self, wanted: DeadLetterFilter, progress: ReplayProgress | None = None) -> ReplayCounts:
        """Replay every record the filter matches (its paging ignored)."""
        return await self.replay_each(await self.matching(wanted), progress)

    async def _note_failure(self, record_id: int, error: Exception) -> ReplayResult:
        reference = str(uuid.uuid4())
        log.error("parked_replay_failed", record=record_id, reference=reference, error=type(error).__name__)
        async with self._units() as uow:
            result = await self._dead_letters.note_failure(uow, record_id, reference)
            await uow.commit()
        return result
