"""What the pipeline hands to storage: a message ready to store and relay, and what it does to others."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from broker.domain.attachments import AttachmentRef
from broker.domain.disclosure import DisclosureFacts
from broker.domain.lifecycle import Event


@dataclass(frozen=True)
class OutboundRecord:
    """A record to deliver: topic (or Kela's inbox), key (the case id, never an identity code), headers, value."""

    topic: str
    key: str
    headers: dict[str, str]
    value: bytes


@dataclass(frozen=True)
class Advance:
    """A step this message causes on another: a receipt delivers, a response answers, a reminder reminds."""

    target_id: str
    event: Event
    new_due_date: dt.date | None = None
    """A reminder's new due date, which the request takes over (18 g §)."""


@dataclass(frozen=True)
class AcceptedMessage:
    """A message that passed every stage, in the form its recipient may receive."""

    message_id: str
    message_type: str
    schema_version: str
    """The version of the type's schema the message was validated against (its envelope's `SchemaVersion`)."""
    sender: str
    recipient: str
    case_id: str
    correlation_id: str | None
    content_sha256: str
    """Hash of the document as the sender sent it: the idempotency check."""
    policy_version: str
    removed_fields: dict[str, int]
    disclosure: DisclosureFacts
    """Pseudonymised subjects, field categories, legal bases, purposes: for the disclosure log."""
    record: OutboundRecord
    accepted_at: dt.datetime
    due_date: dt.date | None = None
    """When an answer is due, for a request for further information."""
    attachments: tuple[AttachmentRef, ...] = ()
    """The manifest as the sender declared it: checked against the stored attachments."""
    delivered_attachments: tuple[str, ...] = ()
    """The attachment ids the recipient receives (after the filter): sender and recipient may fetch them."""
    advances: tuple[Advance, ...] = ()
    """Steps this message causes on the messages it answers or receipts."""
    request_id: str | None = None
    """The REST call it came in (its `X-Road-Id` on X-Road); None for a record from Kafka."""
    calling_member: str | None = None
    """The X-Road member subsystem that sent it (`X-Road-Client`), when it came through a security server."""


class SaveOutcome(StrEnum):
    """What storing an accepted message came to."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    """The same message id with the same content: answer as the first time."""
    CONFLICT = "conflict"
    """The same message id with other content."""
