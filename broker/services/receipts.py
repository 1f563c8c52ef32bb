"""Silta's own technical receipts: for every message from an organiser, accepted or rejected.

A receipt carries no personal data: the id of what it receipts, the outcome
and, for a rejection, each error's code, path and reason. Its message id is
derived (with Silta's id key, so no sender can predict it) from the receipted
record's position, so processing the same record twice yields the same
receipt, which storage then deduplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from lxml import etree

from broker.crypto.ids import MessageIds
from broker.domain import headers as hdr
from broker.domain.accepted import AcceptedMessage, OutboundRecord
from broker.domain.catalogue import RECEIPT
from broker.domain.disclosure import DisclosureFacts
from broker.domain.envelope import Envelope
from broker.domain.errors import ErrorItem, Rejection
from broker.domain.lifecycle import Event
from broker.domain.parties import SILTA
from broker.domain.topics import destination_of
from broker.xml.envelope_reader import new_document

_MAX_ERRORS = 50
_MAX_REMOVED = 200


@dataclass(frozen=True)
class RecordPosition:
    """Where a record was read: its topic, partition and offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True)
class ReceiptSubject:
    """What a technical receipt is about: the record's position and, if it could be read, its id and case."""

    position: RecordPosition
    recipient: str
    message_id: str | None
    case_id: str | None


class ReceiptWriter:
    """Writes the receipts and notices Silta sends itself, signed, with ids only Silta can derive."""

    def __init__(self, ids: MessageIds) -> None:
        self.ids = ids

    def technical(
        self,
        subject: ReceiptSubject,
        at: dt.datetime,
        rejection: Rejection | None = None,
        removed: dict[str, int] | None = None,
        replay: int | None = None,
    ) -> AcceptedMessage:
        """The receipt for one record, ready to store and relay to the organiser's topic.

        For an accepted message `removed` reports what the statutory filter took out, paths and counts only.
        An operator's replay of a parked record (`replay`: the attempt it is) gets a receipt id of its own.
        """
        receipt_id = self.technical_receipt_id(subject.position, replay)
        case_id = subject.case_id or "silta-receipt"
        content = ReceiptContent(
            receipt_id, SILTA, subject.recipient, case_id, subject.message_id, "technical", rejection, removed=removed
        )
        position = {hdr.RECEIPTED_POSITION: str(subject.position)}
        return self._silta_message(content, receipt_document(content, at), at, position)

    def technical_receipt_id(self, position: RecordPosition, replay: int | None = None) -> str:
        """The id of the technical receipt for the record at `position` (and for its replay as attempt `replay`)."""
        if replay is not None:
            return self.ids.derive("technical-receipt-replay", str(position), str(replay))
        return self.ids.derive("technical-receipt", str(position))

    def deadline_notice(self, notice: DeadlineNotice, at: dt.datetime) -> AcceptedMessage:
        """Silta's notice about a deadline: `reminder-due` to the party that must answer, `overdue` to the one waiting.

        Its id is derived from the message, the kind of notice and how many of that kind came before, so a
        second sweep that found the same message would write the same id, which storage refuses.
        """
        notice_id = self.ids.derive(f"{notice.event}-notice", notice.about, str(notice.count))
        content = ReceiptContent(
            notice_id, SILTA, notice.recipient, notice.case_id, notice.about, "technical", notice=notice
        )
        return self._silta_message(content, receipt_document(content, at), at)

    def business_receipt_id(self, receipted: str) -> str:
        """The id of the business receipt for a message: the same however often the receipt is asked for."""
        return self.ids.derive("business-receipt", receipted)

    def _silta_message(
        self, content: ReceiptContent, body: bytes, at: dt.datetime, extra_headers: dict[str, str] | None = None
    ) -> AcceptedMessage:
        """A message Silta itself sends: no personal data, so nothing to filter; sealed like every record."""
        receipted = content.receipted_id
        headers = {
            hdr.MESSAGE_ID: content.receipt_id,
            hdr.MESSAGE_TYPE: RECEIPT.name,
            hdr.SCHEMA: RECEIPT.schema_header,
            hdr.SENDER: SILTA,
            hdr.RECIPIENT: content.recipient,
            **({hdr.CORRELATION_ID: receipted} if receipted else {}),
            **(extra_headers or {}),
        }
        return AcceptedMessage(
            message_id=content.receipt_id,
            message_type=RECEIPT.name,
            schema_version=RECEIPT.schema_version,
            sender=SILTA,
            recipient=content.recipient,
            case_id=content.case_id,
            correlation_id=receipted,
            content_sha256=hashlib.sha256(body).hexdigest(),
            policy_version="silta-generated",
            removed_fields={},
            disclosure=DisclosureFacts(
                data_subject=None, categories=("Errors", "Kind", "Outcome"), legal_bases=(RECEIPT.legal_basis,)
            ),
            record=OutboundRecord(destination_of(content.recipient), content.case_id, headers, body),
            accepted_at=at,
        )


@dataclass(frozen=True)
class DeadlineNotice:
    """What Silta tells a party about a deadline: ids and the due date only, which the party already has."""

    event: Event
    """`Event.REMINDER_DUE` or `Event.OVERDUE`: also the notice's `Outcome`."""
    about: str
    """The message whose deadline it is."""
    recipient: str
    case_id: str
    due_date: dt.date | None
    count: int = 1
    """The how-manyth notice of this kind about the message (a new due date may bring another)."""


@dataclass(frozen=True)
class ReceiptContent:
    """What a receipt document says."""

    receipt_id: str
    sender: str
    recipient: str
    case_id: str
    receipted_id: str | None
    kind: str
    rejection: Rejection | None = None
    receiver_case_reference: str | None = None
    notice: DeadlineNotice | None = None
    """For Silta's deadline notices: the outcome and due date it tells."""
    removed: dict[str, int] | None = None
    """What the filter removed from the receipted message (paths and counts)."""


def business_receipt(
    receipt_id: str, receipted: str, recipient: str, case_id: str, reference: str | None, *, at: dt.datetime
) -> bytes:
    """Kela's business receipt: the message was taken into Kela's case system (with its reference)."""
    content = ReceiptContent(receipt_id, "kela", recipient, case_id, receipted, "business", None, reference)
    return receipt_document(content, at)


def receipt_document(content: ReceiptContent, at: dt.datetime) -> bytes:
    """A receipt as XML, valid against the receipt's current schema (receipt-1.1.xsd)."""
    ns = RECEIPT.namespace
    envelope = Envelope(
        message_id=content.receipt_id,
        message_type=RECEIPT.name,
        schema_version=RECEIPT.schema_version,
        sender=content.sender,
        recipient=content.recipient,
        case_id=content.case_id,
        correlation_id=content.receipted_id,
        data_subject=None,
        created_at=at,
        legal_basis=RECEIPT.legal_basis,
    )
    root = new_document(RECEIPT, envelope)
    etree.SubElement(root, f"{{{ns}}}Kind").text = content.kind
    etree.SubElement(root, f"{{{ns}}}Outcome").text = _outcome(content)
    if content.notice is not None and content.notice.due_date is not None:
        etree.SubElement(root, f"{{{ns}}}DueDate").text = content.notice.due_date.isoformat()
    if content.receiver_case_reference:
        etree.SubElement(root, f"{{{ns}}}ReceiverCaseReference").text = content.receiver_case_reference
    if content.rejection is not None:
        _errors(etree.SubElement(root, f"{{{ns}}}Errors"), content.rejection)
    if content.removed:
        _removed(etree.SubElement(root, f"{{{ns}}}RemovedFields"), content.removed)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _outcome(content: ReceiptContent) -> str:
    if content.notice is not None:
        return str(content.notice.event)
    return "accepted" if content.rejection is None else "rejected"


def _errors(parent: etree._Element, rejection: Rejection) -> None:
    ns = RECEIPT.namespace
    for item in rejection.errors[:_MAX_ERRORS] or [ErrorItem("/", rejection.detail)]:
        error = etree.SubElement(parent, f"{{{ns}}}Error")
        etree.SubElement(error, f"{{{ns}}}Code").text = str(rejection.code)
        etree.SubElement(error, f"{{{ns}}}Path").text = item.path[:300] or "/"
        etree.SubElement(error, f"{{{ns}}}Reason").text = item.reason[:1000] or "-"


def _removed(parent: etree._Element, removed: dict[str, int]) -> None:
    ns = RECEIPT.namespace
    for path, count in sorted(removed.items())[:_MAX_REMOVED]:
        field = etree.SubElement(parent, f"{{{ns}}}Field")
        etree.SubElement(field, f"{{{ns}}}Path").text = path[:300] or "/"
        etree.SubElement(field, f"{{{ns}}}Count").text = str(max(count, 1))
