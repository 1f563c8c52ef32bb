"""One organiser's record, handled until it has an outcome: retried on a transient fault, parked on its own.

Each attempt is its own unit of work, committed on success. A transient
fault (the database or Kafka away) is retried with backoff for as long as it
lasts and never parks a record. Any other failure is tried a few times (a
race with another instance settles on the second try) and then parked as
`internal-error` with a reference that the receipt and the log both carry.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Protocol

import structlog

from broker.metrics import INBOUND_FAILURES
from broker.services.faults import is_transient
from broker.services.inbound import InboundOutcome, InboundRecord, Parking, internal_error
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)


class RecordIntake(Protocol):
    """What handles and parks a record in a unit of work (`OrganiserRecordIntake`)."""

    async def handle(self, uow: UnitOfWork, record: InboundRecord) -> InboundOutcome:
        """Accept or reject the record in `uow`."""
        ...

    async def park(self, uow: UnitOfWork, record: InboundRecord, parking: Parking) -> None:
        """Park the record with its error in `uow`."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing record is tried before parking, and the backoff for transient faults."""

    max_attempts: int = 3
    first_backoff_s: float = 0.2
    max_backoff_s: float = 10.0


class RecordProcessor:
    """Handles records one at a time, each to an outcome; never raises for a record's own failure."""

    def __init__(self, units: UnitOfWorkFactory, intake: RecordIntake, policy: RetryPolicy) -> None:
        self._units = units
        self._intake = intake
        self._policy = policy

    async def process(self, record: InboundRecord) -> InboundOutcome:
        """The record's outcome, once it is stored; waits out transient faults."""
        attempts, backoff = 0, self._policy.first_backoff_s
        while True:
            attempts += 1
            try:
                return await self._attempt(record)
            except Exception as error:  # noqa: BLE001  sorted into transient and the record's own just below
                if is_transient(error):
                    attempts -= 1  # the infrastructure's fault, not the record's: it does not count
                    backoff = await self._wait(record, error, backoff)
                    continue
                if attempts < self._policy.max_attempts:
                    log.warning("inbound_attempt_failed", position=str(record.position), attempt=attempts)
                    continue
                return await self._park_internal_error(record, error, attempts)

    async def _attempt(self, record: InboundRecord) -> InboundOutcome:
        async with self._units() as uow:
            outcome = await self._intake.handle(uow, record)
            await uow.commit()
        return outcome

    async def _wait(self, record: InboundRecord, error: BaseException, backoff: float) -> float:
        INBOUND_FAILURES.labels(code="transient").inc()
        position, kind = str(record.position), type(error).__name__
        log.warning("inbound_transient_fault", position=position, error=kind, retry_in_s=backoff)
        await asyncio.sleep(backoff)
        return min(backoff * 2, self._policy.max_backoff_s)

    async def _park_internal_error(self, record: InboundRecord, error: BaseException, attempts: int) -> InboundOutcome:
        reference = str(uuid.uuid4())
        log.error(
            "inbound_internal_error",
            position=str(record.position),
            reference=reference,
            error=type(error).__name__,
            exc_info=error,
        )
        parking = Parking(internal_error(reference), attempts, reference)
        backoff = self._policy.first_backoff_s
        while True:
            try:
                async with self._units() as uow:
                    await self._intake.park(uow, record, parking)
                    await uow.commit()
                return InboundOutcome.REJECTED
            except Exception as park_error:
                if not is_transient(park_error):
                    raise
                backoff = await self._wait(record, park_error, backoff)
