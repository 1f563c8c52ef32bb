"""Organisers' messages to Kela, as they arrive on `silta.from.<org>.v1`.

Each record runs the same pipeline as a REST request, with the topic's
organiser as the caller: a record claiming another sender is rejected. Every
record gets a technical receipt on the organiser's `to` topic; a rejected
record is also parked for inspection, and the partition moves on. A batch of
records is stored in one transaction, and the consumer commits its offsets
only after that, so a crash means the batch is read again and deduplicated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broker.crypto.tokens import Caller
from broker.domain.accepted import AcceptedMessage, SaveOutcome
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.metrics import MESSAGES_REJECTED
from broker.pipeline import MessagePipeline
from broker.services.checks import check_against_store
from broker.services.receipts import ReceiptSubject, RecordPosition, technical_receipt
from broker.store.messages import classify, insert_accepted, known_hashes
from broker.store.tables import ParkedRecord
from broker.xml.validation import case_id_is_identity_code

log = structlog.get_logger(__name__)
_FROM_TOPIC = re.compile(r"^silta\.from\.(hva-(?:0[1-9]|1[0-9]|2[01]|90))\.v1$")
_MESSAGE_ID = re.compile(
    rb"<(?:\w+:)?MessageId>([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})</(?:\w+:)?MessageId>"
)
_CASE_ID = re.compile(rb"<(?:\w+:)?CaseId>([A-Za-z0-9][A-Za-z0-9._:/-]{0,63})</(?:\w+:)?CaseId>")


@dataclass(frozen=True)
class InboundRecord:
    """One record read from an organiser's topic."""

    position: RecordPosition
    value: bytes | None


def organiser_of(topic: str) -> str | None:
    """The organiser whose `from` topic this is, or None."""
    found = _FROM_TOPIC.match(topic)
    return found.group(1) if found else None


class InboundProcessor:
    """Accepts or rejects a batch of organisers' records and stores the outcome with its receipts."""

    def __init__(self, pipeline: MessagePipeline, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._pipeline = pipeline
        self._sessions = sessions

    async def process(self, records: Sequence[InboundRecord]) -> int:
        """Store every record's outcome in one transaction; returns how many messages were accepted."""
        accepted = 0
        async with self._sessions() as session, session.begin():
            for record in records:
                accepted += await self._process_one(session, record)
        return accepted

    async def _process_one(self, session: AsyncSession, record: InboundRecord) -> int:
        organiser = organiser_of(record.position.topic)
        if organiser is None:
            raise ValueError(f"not an organiser's topic: {record.position.topic}")
        subject = _subject(record, organiser)
        try:
            message = await self._accept(session, record, organiser)
        except Rejection as rejection:
            await self._reject(session, record, subject, rejection)
            return 0
        if message is None:  # the same message again: it was stored and receipted the first time
            return 0
        receipt = technical_receipt(subject, None, self._pipeline.signer, message.removed_fields)
        await insert_accepted(session, [message, receipt])
        return 1

    async def _accept(self, session: AsyncSession, record: InboundRecord, organiser: str) -> AcceptedMessage | None:
        if not record.value:
            raise Rejection(ErrorCode.XML_NOT_WELL_FORMED, "the record has no value", [ErrorItem("/", "empty")])
        try:
            message = self._pipeline.accept(record.value, Caller(f"{organiser}-kafka", organiser))
        except Rejection as rejection:
            if rejection.code is ErrorCode.SENDER_MISMATCH:
                raise dataclasses.replace(
                    rejection,
                    code=ErrorCode.SENDER_NOT_TOPIC_OWNER,
                    detail=f"a record on {organiser}'s topic must be sent by {organiser}",
                ) from None
            raise
        outcome = classify([message], await known_hashes(session, [message.message_id]))[0]
        if outcome is SaveOutcome.DUPLICATE:
            return None
        if outcome is SaveOutcome.CONFLICT:
            raise Rejection(
                ErrorCode.MESSAGE_ID_CONFLICT,
                "the message id was already used for other content",
                [ErrorItem("/Envelope/MessageId", "already used")],
            )
        return await check_against_store(session, message)

    async def _reject(
        self, session: AsyncSession, record: InboundRecord, subject: ReceiptSubject, rejection: Rejection
    ) -> None:
        position = record.position
        already = await session.execute(
            select(ParkedRecord.id).where(
                ParkedRecord.topic == position.topic,
                ParkedRecord.kafka_partition == position.partition,
                ParkedRecord.kafka_offset == position.offset,
            )
        )
        if already.first() is not None:
            return
        MESSAGES_REJECTED.labels(code=str(rejection.code)).inc()
        log.info("inbound_rejected", code=str(rejection.code), position=str(position))
        now = dt.datetime.now(dt.UTC)
        await session.execute(
            insert(ParkedRecord).values(
                topic=position.topic,
                kafka_partition=position.partition,
                kafka_offset=position.offset,
                error_code=str(rejection.code),
                value=record.value,
                parked_at=now,
            )
        )
        await insert_accepted(session, [technical_receipt(subject, rejection, self._pipeline.signer)])


def _subject(record: InboundRecord, organiser: str) -> ReceiptSubject:
    """Best effort: the message id and case id of a record, even one that is not valid XML."""
    value = record.value or b""
    message_id = _MESSAGE_ID.search(value)
    case_id = _CASE_ID.search(value)
    case = case_id.group(1).decode() if case_id else None
    if case is not None and case_id_is_identity_code(case):
        case = None  # it would become the receipt's record key
    return ReceiptSubject(record.position, organiser, message_id.group(1).decode() if message_id else None, case)
