"""Organisers' messages to Kela, as they arrive on `silta.from.<org>.v1`: one record, one unit of work.

Each record runs the same pipeline as a REST request, with the topic's
organiser as the caller: a record claiming another sender is rejected. Every
record gets a technical receipt on the organiser's `to` topic, a duplicate the
same answer as the first time; a rejected record is parked for inspection
with its error, and the partition moves on. The receipt's id follows from the
record's position, so a record read again after a crash is recognised as
handled and nothing is stored twice.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import insert

from broker.crypto.tokens import Caller
from broker.domain import headers as hdr
from broker.domain.accepted import AcceptedMessage, SaveOutcome
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE
from broker.domain.topics import writer_of
from broker.metrics import INBOUND_FAILURES, MESSAGES_ACCEPTED, MESSAGES_REJECTED
from broker.pipeline import MessagePipeline
from broker.services.checks import admit
from broker.services.party_keys import RecordSeals
from broker.services.receipts import ReceiptSubject, ReceiptWriter, RecordPosition
from broker.services.unit_of_work import UnitOfWork
from broker.store.messages import insert_accepted, known_hashes
from broker.store.tables import ParkedRecord

log = structlog.get_logger(__name__)
_MESSAGE_ID = re.compile(
    rb"<(?:\w+:)?MessageId>([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})</(?:\w+:)?MessageId>"
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CASE_ID = re.compile(rb"<(?:\w+:)?CaseId>([A-Za-z0-9][A-Za-z0-9._:/-]{0,63})</(?:\w+:)?CaseId>")


@dataclass(frozen=True)
class InboundRecord:
    """One record read from an organiser's topic."""

    position: RecordPosition
    value: bytes | None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class InboundOutcome(StrEnum):
    """What handling one record came to."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    """The same message again: answered with a receipt, stored once."""
    REJECTED = "rejected"
    ALREADY_HANDLED = "already-handled"
    """This very record (topic, partition, offset) was handled before: nothing to do."""


@dataclass(frozen=True)
class Parking:
    """Why a record is parked: its rejection, how often it was tried, and a reference for an internal error."""

    rejection: Rejection
    attempts: int = 1
    reference: str | None = None


@dataclass(frozen=True)
class Replayed:
    """What a replay of a parked record came to: accepted, duplicate or rejected (with the rejection)."""

    outcome: InboundOutcome
    message_id: str | None
    rejection: Rejection | None = None


class OrganiserRecordIntake:
    """The use case "an organiser's record arrives"."""

    def __init__(self, pipeline: MessagePipeline, receipts: ReceiptWriter, seals: RecordSeals) -> None:
        self._pipeline = pipeline
        self._receipts = receipts
        self._seals = seals

    async def handle(self, uow: UnitOfWork, record: InboundRecord) -> InboundOutcome:
        """Accept or reject one record and store the outcome with its receipt, in `uow`."""
        organiser = _organiser(record)
        if await self._handled_before(uow, record):
            return InboundOutcome.ALREADY_HANDLED
        try:
            plaintext = await self._open(uow, record, organiser)
            outcome, message = await self._admit(uow, plaintext, organiser)
        except Rejection as rejection:
            await self.park(uow, record, Parking(rejection))
            return InboundOutcome.REJECTED
        return await self._store(uow, record, plaintext, (outcome, message))

    async def replay(self, uow: UnitOfWork, record: InboundRecord, attempt: int) -> Replayed:
        """Run a parked record through the same pipeline again, as it came, for an operator's replay.

        Unlike `handle` it does not ask whether the position was handled (it was: parked with a rejected
        receipt); its receipt gets an id of its own from `attempt`. A rejection is receipted and returned,
        not parked again: the parked row is the caller's to update.
        """
        organiser = _organiser(record)
        try:
            plaintext = await self._open(uow, record, organiser)
            admitted = await self._admit(uow, plaintext, organiser)
        except Rejection as rejection:
            MESSAGES_REJECTED.labels(code=str(rejection.code)).inc()
            receipt = self._receipts.technical(_subject(record, organiser), uow.now, rejection, replay=attempt)
            await insert_accepted(uow.session, [receipt])
            uow.outbox_written()
            return Replayed(InboundOutcome.REJECTED, None, rejection)
        outcome = await self._store(uow, record, plaintext, admitted, replay=attempt)
        return Replayed(outcome, admitted[1].message_id)

    async def _store(
        self,
        uow: UnitOfWork,
        record: InboundRecord,
        plaintext: bytes,
        admitted: tuple[SaveOutcome, AcceptedMessage],
        replay: int | None = None,
    ) -> InboundOutcome:
        """Store an admitted message (unless a duplicate) with its accepted receipt."""
        outcome, message = admitted
        subject = _subject(record, _organiser(record), plaintext)
        receipt = self._receipts.technical(subject, uow.now, removed=message.removed_fields, replay=replay)
        stored = [message] if outcome is SaveOutcome.STORED else []
        await insert_accepted(uow.session, [*stored, receipt])
        uow.outbox_written()
        if stored:
            MESSAGES_ACCEPTED.labels(message_type=message.message_type, channel="kafka").inc()
            return InboundOutcome.ACCEPTED
        return InboundOutcome.DUPLICATE

    async def park(self, uow: UnitOfWork, record: InboundRecord, parking: Parking) -> None:
        """Keep the record with its error for an operator, and tell the organiser with a rejected receipt."""
        rejection, position = parking.rejection, record.position
        MESSAGES_REJECTED.labels(code=str(rejection.code)).inc()
        INBOUND_FAILURES.labels(code=str(rejection.code)).inc()
        log.info("inbound_parked", code=str(rejection.code), position=str(position), attempts=parking.attempts)
        await uow.session.execute(
            insert(ParkedRecord).values(
                topic=position.topic,
                kafka_partition=position.partition,
                kafka_offset=position.offset,
                error_code=str(rejection.code),
                error_detail=rejection.detail[:1000],
                attempts=parking.attempts,
                reference=parking.reference,
                value=record.value,
                headers=record.headers or None,
                parked_at=uow.now,
            )
        )
        subject = _subject(record, _organiser(record))
        await insert_accepted(uow.session, [self._receipts.technical(subject, uow.now, rejection)])
        uow.outbox_written()

    async def _handled_before(self, uow: UnitOfWork, record: InboundRecord) -> bool:
        receipt_id = self._receipts.technical_receipt_id(record.position)
        return bool(await known_hashes(uow.session, [receipt_id]))

    async def _open(self, uow: UnitOfWork, record: InboundRecord, organiser: str) -> bytes:
        """Verify the organiser's signature first, then decrypt: nothing unverified reaches the parser."""
        if not record.value:
            raise Rejection(ErrorCode.XML_NOT_WELL_FORMED, "the record has no value", [ErrorItem("/", "empty")])
        return await self._seals.open(uow, record.position.topic, organiser, record.headers, record.value)

    async def _admit(self, uow: UnitOfWork, plaintext: bytes, organiser: str) -> tuple[SaveOutcome, AcceptedMessage]:
        try:
            message = self._pipeline.accept(plaintext, Caller(f"{organiser}-kafka", organiser))
        except Rejection as rejection:
            if rejection.code is ErrorCode.SENDER_MISMATCH:
                raise dataclasses.replace(
                    rejection,
                    code=ErrorCode.SENDER_NOT_TOPIC_OWNER,
                    detail=f"a record on {organiser}'s topic must be sent by {organiser}",
                ) from None
            raise
        return await admit(uow.session, message)


def internal_error(reference: str) -> Rejection:
    """The rejection for a record whose handling failed for a reason of Silta's own."""
    return Rejection(
        ErrorCode.INTERNAL_ERROR,
        f"Silta could not handle the record; quote reference {reference} to its operators",
        [ErrorItem("/", f"reference {reference}")],
    )


def _organiser(record: InboundRecord) -> str:
    organiser = writer_of(record.position.topic)
    if organiser is None:
        raise ValueError(f"not an organiser's topic: {record.position.topic}")
    return organiser


def _subject(record: InboundRecord, organiser: str, plaintext: bytes | None = None) -> ReceiptSubject:
    """Best effort: the message id and case id of a record, even one that is not valid XML or not opened.

    From the opened document when there is one; else the `silta-message-id` header (a sealed value shows neither).
    """
    value = plaintext if plaintext is not None else record.value or b""
    found = _MESSAGE_ID.search(value)
    message_id = found.group(1).decode() if found else _header_message_id(record)
    case_id = _CASE_ID.search(value)
    case = case_id.group(1).decode() if case_id else None
    if case is not None and LOOKS_LIKE_IDENTITY_CODE.search(case):
        case = None  # it would become the receipt's record key: even a mistyped code stays out of it
    return ReceiptSubject(record.position, organiser, message_id, case)


def _header_message_id(record: InboundRecord) -> str | None:
    claimed = record.headers.get(hdr.MESSAGE_ID, "")
    return claimed if _UUID.fullmatch(claimed) else None
