"""Silta's own technical receipts: for every message from an organiser, accepted or rejected.

A receipt carries no personal data: the id of what it receipts, the outcome
and, for a rejection, each error's code, path and reason. Its message id is
derived from the receipted record's position, so processing the same record
twice yields the same receipt, which storage then deduplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from lxml import etree

from broker.crypto.signing import RecordSigner
from broker.domain.accepted import AcceptedMessage, OutboundRecord
from broker.domain.catalogue import RECEIPT
from broker.domain.envelope import Envelope
from broker.domain.errors import ErrorItem, Rejection
from broker.domain.parties import topic_to
from broker.xml.envelope_reader import new_document

SILTA = "silta"
_RECEIPT_IDS = uuid.UUID("6d1f0c2a-5b7e-4f1d-9a3c-2e8b7d6c5f40")
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


def technical_receipt(
    subject: ReceiptSubject, rejection: Rejection | None, signer: RecordSigner, removed: dict[str, int] | None = None
) -> AcceptedMessage:
    """The receipt for one record, ready to store and relay to the organiser's topic.

    For an accepted message `removed` reports what the statutory filter took out, paths and counts only.
    """
    receipt_id = str(uuid.uuid5(_RECEIPT_IDS, str(subject.position)))
    case_id = subject.case_id or "silta-receipt"
    content = ReceiptContent(
        receipt_id, SILTA, subject.recipient, case_id, subject.message_id, "technical", rejection, removed=removed
    )
    position = {"silta-receipted-position": str(subject.position)}
    return _silta_message(content, receipt_document(content), signer, position)


def _silta_message(
    content: ReceiptContent, body: bytes, signer: RecordSigner, extra_headers: dict[str, str] | None = None
) -> AcceptedMessage:
    """A message Silta itself sends: no personal data, so nothing to filter; signed like every record."""
    receipted = content.receipted_id
    headers = {
        "silta-message-id": content.receipt_id,
        "silta-message-type": RECEIPT.name,
        "silta-schema": RECEIPT.schema_header,
        "silta-sender": SILTA,
        "silta-recipient": content.recipient,
        **({"silta-correlation-id": receipted} if receipted else {}),
        **(extra_headers or {}),
    }
    headers.update(signer.signature_headers(headers, body))
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
        disclosure={"subjects": [], "categories": ["Kind", "Outcome", "Errors"], "legal_bases": [RECEIPT.legal_basis]},
        record=OutboundRecord(topic_to(content.recipient), content.case_id, headers, body),
    )


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
    overdue: bool = False
    removed: dict[str, int] | None = None
    """What the filter removed from the receipted message (paths and counts)."""


def business_receipt(receipt_id: str, receipted: str, recipient: str, case_id: str, reference: str | None) -> bytes:
    """Kela's business receipt: the message was taken into Kela's case system (with its reference)."""
    content = ReceiptContent(receipt_id, "kela", recipient, case_id, receipted, "business", None, reference)
    return receipt_document(content)


def overdue_notice(receipted: str, recipient: str, case_id: str, signer: RecordSigner) -> AcceptedMessage:
    """Silta's notice to a sender that its message got no business receipt or answer in time."""
    notice_id = str(uuid.uuid5(_RECEIPT_IDS, f"overdue/{receipted}"))
    content = ReceiptContent(notice_id, SILTA, recipient, case_id, receipted, "technical", overdue=True)
    return _silta_message(content, receipt_document(content), signer)


def business_receipt_id(receipted: str) -> str:
    """The id of the business receipt for a message: the same however often the receipt is asked for."""
    return str(uuid.uuid5(_RECEIPT_IDS, f"business/{receipted}"))


def receipt_document(content: ReceiptContent) -> bytes:
    """A receipt as XML, valid against receipt-1.xsd."""
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
        created_at=dt.datetime.now(dt.UTC),
        legal_basis=RECEIPT.legal_basis,
    )
    root = new_document(RECEIPT, envelope)
    etree.SubElement(root, f"{{{ns}}}Kind").text = content.kind
    outcome = "overdue" if content.overdue else "accepted" if content.rejection is None else "rejected"
    etree.SubElement(root, f"{{{ns}}}Outcome").text = outcome
    if content.receiver_case_reference:
        etree.SubElement(root, f"{{{ns}}}ReceiverCaseReference").text = content.receiver_case_reference
    if content.rejection is not None:
        _errors(etree.SubElement(root, f"{{{ns}}}Errors"), content.rejection)
    if content.removed:
        _removed(etree.SubElement(root, f"{{{ns}}}RemovedFields"), content.removed)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


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
