"""Dead letters: an operator lists, explains, replays and discards what failed.

A parked record is replayed through the organiser-record pipeline again with
its stored value and headers (`OrganiserRecordIntake.replay`), under a row
lock, so two operators or instances never replay it twice: the second finds
it resolved and skips. A replay that fails again keeps the row and its value,
with the new error and one more attempt; a successful one marks the row
replayed with the message id it became. Nothing is deleted: a discard needs a
reason, which goes to the usage log with who discarded it. REST rejections
are kept beside them (no body, no URL, no detail text).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broker.domain.dead_letters import (
    KIND_PARKED,
    KIND_REST,
    DeadLetterFilter,
    ParkedState,
    ReplayOutcome,
    ReplayResult,
    RestRejectionFacts,
)
from broker.domain.disclosure import UsageEntry
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE
from broker.domain.topics import writer_of
from broker.services.inbound import InboundOutcome, InboundRecord, OrganiserRecordIntake, internal_error
from broker.services.receipts import RecordPosition
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import append_entries
from broker.store.parked import (
    find_parked,
    find_rest_rejections,
    insert_rest_rejection,
    lock_parked,
    parked_by_id,
    parked_ids,
    update_parked,
)
from broker.store.tables import ParkedRecord, RestRejection

_DISCARD_PURPOSE = "operations: discard a dead letter"


@dataclass(frozen=True)
class ParkedView:
    """A parked record as an operator sees it: where it came from, why it failed, what became of it."""

    id: int
    topic: str
    partition: int
    offset: int
    sender: str | None
    error_code: str
    error_detail: str
    attempts: int
    reference: str | None
    parked_at: dt.datetime
    last_attempt_at: dt.datetime | None
    state: ParkedState
    replayed_at: dt.datetime | None
    replayed_message_id: str | None
    discarded_at: dt.datetime | None
    discarded_by: str | None
    discard_reason: str | None
    value_size: int | None
    """Bytes of the stored value; None once retention emptied it."""
    headers: dict[str, str]
    kind: str = KIND_PARKED


@dataclass(frozen=True)
class RestRejectionView:
    """A kept REST rejection."""

    id: int
    at: dt.datetime
    client_id: str | None
    caller_party: str | None
    method: str
    route: str
    error_code: str
    status: int
    body_size: int
    body_sha256: str | None
    request_id: str | None
    kind: str = KIND_REST


class DeadLetters:
    """The operator's use cases on parked records and kept REST rejections, each in the caller's unit of work."""

    def __init__(self, intake: OrganiserRecordIntake) -> None:
        self._intake = intake

    async def listing(self, uow: UnitOfWork, wanted: DeadLetterFilter) -> list[ParkedView]:
        """One page of parked records matching the filter, oldest first."""
        return [parked_view(row) for row in await find_parked(uow.session, wanted)]

    async def matching(self, uow: UnitOfWork, wanted: DeadLetterFilter) -> list[int]:
        """The ids of every parked record the filter matches (for a replay of them all)."""
        return await parked_ids(uow.session, wanted)

    async def explain(self, uow: UnitOfWork, record_id: int) -> ParkedView:
        """One parked record, or `parked-record-not-found`."""
        row = await parked_by_id(uow.session, record_id)
        if row is None:
            raise _not_found(record_id)
        return parked_view(row)

    async def replay(self, uow: UnitOfWork, record_id: int) -> ReplayResult:
        """Replay one parked record under its row lock; skipped if resolved already or its value is gone."""
        row = await lock_parked(uow.session, record_id)
        if row is None:
            raise _not_found(record_id)
        if _state(row) is not ParkedState.UNRESOLVED or row.value is None:
            return ReplayResult(record_id, ReplayOutcome.SKIPPED, row.replayed_message_id)
        attempt = row.attempts + 1
        answer = await self._intake.replay(uow, _inbound(row), attempt)
        if answer.rejection is not None:
            await _failed_again(uow, row, answer.rejection, attempt)
            return ReplayResult(record_id, ReplayOutcome.PARKED_AGAIN, error_code=str(answer.rejection.code))
        await update_parked(
            uow.session,
            record_id,
            attempts=attempt,
            last_attempt_at=uow.now,
            replayed_at=uow.now,
            replayed_message_id=answer.message_id,
        )
        outcome = ReplayOutcome.DELIVERED if answer.outcome is InboundOutcome.ACCEPTED else ReplayOutcome.DUPLICATE
        return ReplayResult(record_id, outcome, answer.message_id)

    async def note_failure(self, uow: UnitOfWork, record_id: int, reference: str) -> ReplayResult:
        """A replay that failed for a reason of Silta's own (rolled back): the row gets `internal-error`."""
        row = await lock_parked(uow.session, record_id)
        if row is None or _state(row) is not ParkedState.UNRESOLVED:
            return ReplayResult(record_id, ReplayOutcome.SKIPPED)
        await _failed_again(uow, row, internal_error(reference), row.attempts + 1, reference)
        return ReplayResult(record_id, ReplayOutcome.PARKED_AGAIN, error_code=str(ErrorCode.INTERNAL_ERROR))

    async def discard(self, uow: UnitOfWork, record_id: int, by: str, party: str, reason: str) -> ParkedView:
        """Mark one unresolved record discarded, with who and why; the discard goes to the usage log."""
        reason = LOOKS_LIKE_IDENTITY_CODE.sub("***", reason.strip())[:1000]
        if not reason:
            raise Rejection(ErrorCode.DISCARD_REASON_MISSING, "say why the record is discarded (`reason`)")
        row = await lock_parked(uow.session, record_id)
        if row is None:
            raise _not_found(record_id)
        if _state(row) is not ParkedState.UNRESOLVED:
            raise Rejection(ErrorCode.PARKED_RECORD_RESOLVED, f"parked record {record_id} is {_state(row)} already")
        await update_parked(uow.session, record_id, discarded_at=uow.now, discarded_by=by, discard_reason=reason)
        details = {"parked_record": str(record_id), "topic": row.topic, "error_code": row.error_code, "reason": reason}
        usage = UsageEntry(None, by, party, _DISCARD_PURPOSE, ("parked record",), details)
        await append_entries(uow.session, "usage", [usage.log_entry()], uow.now)
        return await self.explain(uow, record_id)

    async def rejections(self, uow: UnitOfWork, wanted: DeadLetterFilter) -> list[RestRejectionView]:
        """One page of kept REST rejections matching the filter (reason, caller party, time), oldest first."""
        return [rest_rejection_view(row) for row in await find_rest_rejections(uow.session, wanted)]

    async def keep_rest_rejection(self, uow: UnitOfWork, facts: RestRejectionFacts) -> None:
        """Keep one REST rejection (the edge runs it in a short unit of its own: the request's rolled back)."""
        await insert_rest_rejection(uow.session, facts, uow.now)


async def _failed_again(
    uow: UnitOfWork, row: ParkedRecord, rejection: Rejection, attempt: int, reference: str | None = None
) -> None:
    await update_parked(
        uow.session,
        row.id,
        error_code=str(rejection.code),
        error_detail=rejection.detail[:1000],
        attempts=attempt,
        reference=reference,
        last_attempt_at=uow.now,
    )


def _not_found(record_id: int) -> Rejection:
    return Rejection(ErrorCode.PARKED_RECORD_NOT_FOUND, f"no parked record {record_id}")


def _state(row: ParkedRecord) -> ParkedState:
    if row.replayed_at is not None:
        return ParkedState.REPLAYED
    if row.discarded_at is not None:
        return ParkedState.DISCARDED
    return ParkedState.UNRESOLVED


def _inbound(row: ParkedRecord) -> InboundRecord:
    return InboundRecord(RecordPosition(row.topic, row.kafka_partition, row.kafka_offset), row.value, row.headers or {})


def parked_view(row: ParkedRecord) -> ParkedView:
    """The operator's view of a stored row."""
    return ParkedView(
        id=row.id,
        topic=row.topic,
        partition=row.kafka_partition,
        offset=row.kafka_offset,
        sender=writer_of(row.topic),
        error_code=row.error_code,
        error_detail=row.error_detail,
        attempts=row.attempts,
        reference=row.reference,
        parked_at=row.parked_at,
        last_attempt_at=row.last_attempt_at,
        state=_state(row),
        replayed_at=row.replayed_at,
        replayed_message_id=row.replayed_message_id,
        discarded_at=row.discarded_at,
        discarded_by=row.discarded_by,
        discard_reason=row.discard_reason,
        value_size=None if row.value is None else len(row.value),
        headers=dict(row.headers or {}),
    )


def rest_rejection_view(row: RestRejection) -> RestRejectionView:
    """The operator's view of a kept REST rejection."""
    return RestRejectionView(
        row.id,
        row.at,
        row.client_id,
        row.caller_party,
        row.method,
        row.route,
        row.error_code,
        row.status,
        row.body_size,
        row.body_sha256,
        row.request_id,
    )
