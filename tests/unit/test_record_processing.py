"""A record's failure stays with it: transient faults are retried and never park; anything else parks, coded."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.domain.clock import SystemClock
from broker.domain.errors import ErrorCode
from broker.services.inbound import InboundOutcome, InboundRecord, Parking
from broker.services.receipts import RecordPosition
from broker.services.record_processing import RecordProcessor, RetryPolicy
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

RECORD = InboundRecord(RecordPosition("silta.from.hva-08.v1", 0, 7), b"<DecisionNotice/>")
FAST = RetryPolicy(max_attempts=3, first_backoff_s=0.001, max_backoff_s=0.002)


class _Intake:
    """Fails with the given errors in turn, then accepts; remembers what it parked."""

    def __init__(self, *failures: BaseException, forever: BaseException | None = None) -> None:
        self.failures = list(failures)
        self.forever = forever
        self.attempts = 0
        self.parked: list[Parking] = []

    async def handle(self, uow: UnitOfWork, record: InboundRecord) -> InboundOutcome:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.forever is not None:
            raise self.forever
        return InboundOutcome.ACCEPTED

    async def park(self, uow: UnitOfWork, record: InboundRecord, parking: Parking) -> None:
        self.parked.append(parking)


@pytest.fixture
def units(sessions: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    """Units of work on the test's own SQLite database."""
    return UnitOfWorkFactory(sessions, SystemClock(), lambda: None)


def _database_away() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


async def test_a_transient_fault_is_retried_until_it_passes_and_never_parks(units: UnitOfWorkFactory) -> None:
    """The database away five times in a row: more tries than `max_attempts`, and the record is accepted."""
    intake = _Intake(*[_database_away() for _ in range(5)])
    outcome = await RecordProcessor(units, intake, FAST).process(RECORD)
    assert outcome is InboundOutcome.ACCEPTED
    assert intake.attempts == 6
    assert intake.parked == []


async def test_a_race_settles_on_the_second_try(units: UnitOfWorkFactory) -> None:
    """A unique-constraint clash with another instance is tried again, and then seen as what it is."""
    intake = _Intake(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert await RecordProcessor(units, intake, FAST).process(RECORD) is InboundOutcome.ACCEPTED
    assert intake.parked == []


async def test_an_unexpected_failure_parks_the_record_as_internal_error_with_a_reference(
    units: UnitOfWorkFactory,
) -> None:
    """A bug (here a ValueError from a date parser) parks after `max_attempts`, coded, with a reference."""
    intake = _Intake(forever=ValueError("hour must be in 0..23"))
    outcome = await RecordProcessor(units, intake, FAST).process(RECORD)
    assert outcome is InboundOutcome.REJECTED
    [parking] = intake.parked
    assert parking.rejection.code is ErrorCode.INTERNAL_ERROR
    assert parking.attempts == 3
    assert parking.reference is not None
    assert parking.reference in parking.rejection.detail
