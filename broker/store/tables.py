"""The database tables. The schema itself is built by the Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware time, read back in UTC on every backend: SQLite keeps no zone, every time is stored in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """The stored time, with its zone (UTC) put back where the backend dropped it."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Base of every table."""


class MessageRecord(Base):
    """A message Silta accepted, in the form its recipient receives (after the filter)."""

    __tablename__ = "messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_type: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[str] = mapped_column(String(16))
    """The version of the type's schema the message was validated against (its envelope's SchemaVersion)."""
    sender: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[str] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(36))
    content_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    removed_fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    policy_version: Mapped[str] = mapped_column(String(64))
    disclosure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Pseudonymised facts for the disclosure log, written when the record is published."""
    status: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    """When the retention run emptied the body; the log entries stay."""
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    """Keyed pseudonym of the data subject (never the identity code): finds a principal's messages.

    Made with the pseudonym key version its `disclosure` facts name (`pseudonym_version`; none: version 1)."""
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    """For a request for further information: when the answer is due (14 a §)."""
    request_id: Mapped[str | None] = mapped_column(String(128))
    """The REST call that brought it: its request id, the `X-Road-Id` when it came through a security server."""
    calling_member: Mapped[str | None] = mapped_column(String(260))
    """The `X-Road-Client` that sent it (`INSTANCE/CLASS/MEMBER/SUBSYSTEM`); null off X-Road and for Kafka."""


class OutboxRecord(Base):
    """A Kafka record to publish, written in the same transaction as its message."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.message_id"), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(64))
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=published_at.is_(None), sqlite_where=published_at.is_(None)),
    )


class AuditEntry(Base):
    """One entry of a hash-chained log (`disclosure` or `usage`); kept 12 years, never updated."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    """Keyed pseudonym of the person whose data it is; never the identity code."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last sequence number and hash of each chain; the row lock serialises appends."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))


class InboxEntry(Base):
    """A message delivered to Kela's inbox; `seq` is the stable cursor, assigned in delivery order."""

    __tablename__ = "inbox_entries"

    seq: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.message_id"), unique=True)
    recipient: Mapped[str] = mapped_column(String(16))
    available_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    receipted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    receipt_id: Mapped[str | None] = mapped_column(String(36))


class MessageEvent(Base):
    """One step of a message's status: accepted, published, delivered, received, answered, returned, overdue."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.message_id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    by_message_id: Mapped[str | None] = mapped_column(String(36))
    """The receipt or answer that caused the step, if any."""


class ParkedRecord(Base):
    """A record from an organiser's topic that Silta rejected: kept for inspection, receipted as rejected."""

    __tablename__ = "parked_records"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    kafka_partition: Mapped[int] = mapped_column(Integer)
    kafka_offset: Mapped[int] = mapped_column(BigInteger)
    error_code: Mapped[str] = mapped_column(String(64))
    error_detail: Mapped[str] = mapped_column(String(1000), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    """How often Silta tried to handle the record before parking it."""
    reference: Mapped[str | None] = mapped_column(String(36))
    """For an `internal-error`: the reference in the receipt and in the service log."""
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    """The record's headers (its signature among them), so that a replay sees the record as it came."""
    parked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    """When an operator's replay last tried it (and it failed again, or succeeded)."""
    replayed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    replayed_message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """The message the successful replay stored (or found already stored)."""
    discarded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    discarded_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    discard_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)

    __table_args__ = (
        UniqueConstraint("topic", "kafka_partition", "kafka_offset", name="uq_parked_position"),
        Index("ix_parked_error_code", "error_code"),
    )


class RestRejection(Base):
    """A REST request Silta refused with a problem document: who, which route and why; never the body."""

    __tablename__ = "rest_rejections"

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    caller_party: Mapped[str | None] = mapped_column(String(32), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))
    """The route's path template (`/kela/v1/inbox/{message_id}`), never the URL as sent."""
    error_code: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[int] = mapped_column(Integer)
    body_size: Mapped[int] = mapped_column(BigInteger)
    body_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the body as far as Silta read it; None if it read none."""
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Attachment(Base):
    """An attachment stored once, addressed by the SHA-256 of its content (the claim check)."""

    __tablename__ = "attachments"

    attachment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The SHA-256 of the content, lower-case hex: also the `AttachmentId` messages reference."""
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(16))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    purged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class MessageAttachment(Base):
    """A message references an attachment: its sender and recipient may fetch it."""

    __tablename__ = "message_attachments"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.message_id"), primary_key=True)
    attachment_id: Mapped[str] = mapped_column(ForeignKey("attachments.attachment_id"), primary_key=True, index=True)


class GuardianMandate(Base):
    """A guardian's mandate for a principal (edunvalvontavaltuutus), from the guardianship register."""

    __tablename__ = "guardian_mandates"

    principal_ref: Mapped[str] = mapped_column(String(36), primary_key=True)
    """Opaque reference the guardian uses for the principal: never the identity code."""
    guardian_id: Mapped[str] = mapped_column(String(64), index=True)
    principal_subject: Mapped[str] = mapped_column(String(64), index=True)
    """Keyed pseudonym of the principal's identity code under the version current at the first import.

    Look-ups use `MandateSubject`, which has the principal's pseudonym under every live key version."""
    scope: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    source_reference: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("guardian_id", "principal_subject", "valid_from", name="uq_mandate"),)


class MandateSubject(Base):
    """The principal's pseudonym under one version of the pseudonym key: a mandate finds messages under each.

    Written by each import for every live version; a version added by a rotation is filled in by the next
    import of the register (which has the identity codes), and a retired version's rows are deleted.
    """

    __tablename__ = "guardian_mandate_subjects"

    principal_ref: Mapped[str] = mapped_column(
        ForeignKey("guardian_mandates.principal_ref", ondelete="CASCADE"), primary_key=True
    )
    key_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)


class SpentAssertion(Base):
    """A guardian assertion already used once: a second use is a replay."""

    __tablename__ = "spent_assertions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class PartyKey(Base):
    """A party's public key: Ed25519 to verify what it signs, X25519 to encrypt to it."""

    __tablename__ = "party_keys"

    key_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    party: Mapped[str] = mapped_column(String(32), index=True)
    use: Mapped[str] = mapped_column(String(8))
    """`sig` or `enc`."""
    jwk: Mapped[str] = mapped_column(Text)
    """The public JWK, as registered."""
    source: Mapped[str] = mapped_column(String(512))
    registered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ConsoleSignOut(Base):
    """A console session signed out before its cookie expires: refused by every instance until then."""

    __tablename__ = "console_sign_outs"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    """When the session's cookie expires anyway; the row can go then."""
