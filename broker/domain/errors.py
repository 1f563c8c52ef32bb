"""Stable error codes and the rejection every stage raises.

A rejection names what is wrong: a stable `code`, a human `detail`, and for
validation a list of `errors`, each with the `path` in the document and the
`reason`. Channels render it: REST as an RFC 9457 problem document, Kafka as a
receipt message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    """Every reason Silta rejects input. The values never change once published."""

    BODY_TOO_LARGE = "body-too-large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    XML_NOT_WELL_FORMED = "xml-not-well-formed"
    XML_DTD_FORBIDDEN = "xml-dtd-forbidden"
    XML_EXTERNAL_REFERENCE = "xml-external-reference"
    XML_XINCLUDE_FORBIDDEN = "xml-xinclude-forbidden"
    XML_PROCESSING_INSTRUCTION = "xml-processing-instruction-forbidden"
    XML_TOO_DEEP = "xml-too-deep"
    UNKNOWN_MESSAGE_TYPE = "unknown-message-type"
    SCHEMA_INVALID = "schema-invalid"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported-schema-version"
    VALUE_OUT_OF_RANGE = "value-out-of-range"
    IDENTITY_CODE_INVALID = "identity-code-invalid"
    CASE_ID_IS_IDENTITY_CODE = "case-id-is-identity-code"
    TOKEN_MISSING = "token-missing"  # noqa: S105  an error code, not a secret
    TOKEN_INVALID = "token-invalid"  # noqa: S105  an error code, not a secret
    CLIENT_UNKNOWN = "client-unknown"
    SENDER_MISMATCH = "sender-mismatch"
    SENDER_NOT_ALLOWED = "sender-not-allowed"
    MESSAGE_ID_CONFLICT = "message-id-conflict"
    UNROUTABLE = "unroutable"
    RECIPIENT_MISMATCH = "recipient-mismatch"
    MESSAGE_NOT_FOUND = "message-not-found"
    FILTERED_MESSAGE_INVALID = "filtered-message-invalid"
    SIGNATURE_INVALID = "signature-invalid"
    SIGNATURE_MISSING = "signature-missing"
    KEY_UNKNOWN = "key-unknown"
    KEY_REVOKED = "key-revoked"
    SEAL_INVALID = "seal-invalid"
    CORRELATION_MISSING = "correlation-missing"
    CORRELATION_UNKNOWN = "correlation-unknown"
    CORRELATION_WRONG_TYPE = "correlation-wrong-type"
    CORRELATION_WRONG_PARTY = "correlation-wrong-party"
    REQUEST_CANCELLED = "request-cancelled"
    REQUEST_ALREADY_ANSWERED = "request-already-answered"
    DATA_SUBJECT_MISSING = "data-subject-missing"
    SENDER_NOT_TOPIC_OWNER = "sender-not-topic-owner"
    CURSOR_INVALID = "cursor-invalid"
    SEARCH_CURSOR_INVALID = "search-cursor-invalid"
    TIME_INVALID = "time-invalid"
    TIME_RANGE_INVALID = "time-range-invalid"
    REQUEST_INVALID = "request-invalid"
    JSON_NOT_WELL_FORMED = "json-not-well-formed"
    ROUTE_NOT_FOUND = "route-not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    INTERNAL_ERROR = "internal-error"
    ATTACHMENT_MEDIA_TYPE = "attachment-media-type"
    ATTACHMENT_UNKNOWN = "attachment-unknown"
    ATTACHMENT_MISMATCH = "attachment-mismatch"
    ATTACHMENT_NOT_FOUND = "attachment-not-found"
    GUARDIAN_ASSERTION_MISSING = "guardian-assertion-missing"
    GUARDIAN_ASSERTION_INVALID = "guardian-assertion-invalid"
    GUARDIAN_ASSERTION_REPLAYED = "guardian-assertion-replayed"
    CLIENT_NOT_ALLOWED = "client-not-allowed"
    PRINCIPAL_NOT_FOUND = "principal-not-found"
    REQUEST_NOT_FOUND = "request-not-found"
    MANDATE_IMPORT_INVALID = "mandate-import-invalid"
    TRANSITION_ILLEGAL = "transition-illegal"
    CONSOLE_SESSION_MISSING = "console-session-missing"
    CSRF_TOKEN_INVALID = "csrf-token-invalid"  # noqa: S105  an error code, not a secret
    PARKED_RECORD_NOT_FOUND = "parked-record-not-found"
    PARKED_RECORD_RESOLVED = "parked-record-resolved"
    DISCARD_REASON_MISSING = "discard-reason-missing"
    X_ROAD_HEADER_INVALID = "x-road-header-invalid"


@dataclass(frozen=True)
class ErrorSpec:
    """How an error code is presented: HTTP status and a short title."""

    status: int
    title: str


ERROR_SPECS: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.BODY_TOO_LARGE: ErrorSpec(413, "Message too large"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(415, "Unsupported media type"),
    ErrorCode.XML_NOT_WELL_FORMED: ErrorSpec(400, "XML not well-formed"),
    ErrorCode.XML_DTD_FORBIDDEN: ErrorSpec(400, "Document type declarations are forbidden"),
    ErrorCode.XML_EXTERNAL_REFERENCE: ErrorSpec(400, "External references are forbidden"),
    ErrorCode.XML_XINCLUDE_FORBIDDEN: ErrorSpec(400, "XInclude is forbidden"),
    ErrorCode.XML_PROCESSING_INSTRUCTION: ErrorSpec(400, "Processing instructions are forbidden"),
    ErrorCode.XML_TOO_DEEP: ErrorSpec(400, "XML nested too deeply"),
    ErrorCode.UNKNOWN_MESSAGE_TYPE: ErrorSpec(422, "Unknown message type"),
    ErrorCode.SCHEMA_INVALID: ErrorSpec(422, "Message does not match its schema"),
    ErrorCode.UNSUPPORTED_SCHEMA_VERSION: ErrorSpec(422, "Schema version not supported for this message type"),
    ErrorCode.VALUE_OUT_OF_RANGE: ErrorSpec(422, "A value is valid XML Schema but outside what Silta can hold"),
    ErrorCode.IDENTITY_CODE_INVALID: ErrorSpec(422, "Invalid personal identity code"),
    ErrorCode.CASE_ID_IS_IDENTITY_CODE: ErrorSpec(422, "Case id must not be a personal identity code"),
    ErrorCode.TOKEN_MISSING: ErrorSpec(401, "Authentication required"),
    ErrorCode.TOKEN_INVALID: ErrorSpec(401, "Invalid access token"),
    ErrorCode.CLIENT_UNKNOWN: ErrorSpec(403, "Unknown client"),
    ErrorCode.SENDER_MISMATCH: ErrorSpec(403, "Sender does not match the caller"),
    ErrorCode.SENDER_NOT_ALLOWED: ErrorSpec(403, "Sender may not send this message type"),
    ErrorCode.MESSAGE_ID_CONFLICT: ErrorSpec(409, "Message id already used for other content"),
    ErrorCode.UNROUTABLE: ErrorSpec(422, "No recipient for this message"),
    ErrorCode.RECIPIENT_MISMATCH: ErrorSpec(422, "Recipient does not match routing"),
    ErrorCode.MESSAGE_NOT_FOUND: ErrorSpec(404, "Message not found"),
    ErrorCode.FILTERED_MESSAGE_INVALID: ErrorSpec(500, "Statutory filter produced an invalid message"),
    ErrorCode.SIGNATURE_INVALID: ErrorSpec(400, "Record signature invalid"),
    ErrorCode.SIGNATURE_MISSING: ErrorSpec(400, "Record not signed"),
    ErrorCode.KEY_UNKNOWN: ErrorSpec(400, "Record signed with a key Silta does not know for its sender"),
    ErrorCode.KEY_REVOKED: ErrorSpec(400, "Record signed with a revoked key"),
    ErrorCode.SEAL_INVALID: ErrorSpec(400, "Record payload not sealed for its recipient, or its sealed header differs"),
    ErrorCode.CORRELATION_MISSING: ErrorSpec(422, "Message must name the message it answers"),
    ErrorCode.CORRELATION_UNKNOWN: ErrorSpec(422, "Answers a message Silta does not know"),
    ErrorCode.CORRELATION_WRONG_TYPE: ErrorSpec(422, "Answers a message of the wrong type"),
    ErrorCode.CORRELATION_WRONG_PARTY: ErrorSpec(403, "Answers a message that was not addressed to the sender"),
    ErrorCode.REQUEST_CANCELLED: ErrorSpec(409, "The request was cancelled"),
    ErrorCode.REQUEST_ALREADY_ANSWERED: ErrorSpec(409, "The request was already answered"),
    ErrorCode.DATA_SUBJECT_MISSING: ErrorSpec(422, "Envelope must name the data subject"),
    ErrorCode.SENDER_NOT_TOPIC_OWNER: ErrorSpec(403, "Sender is not the organiser whose topic carried the message"),
    ErrorCode.CURSOR_INVALID: ErrorSpec(400, "Invalid inbox cursor"),
    ErrorCode.SEARCH_CURSOR_INVALID: ErrorSpec(400, "Invalid search cursor"),
    ErrorCode.TIME_INVALID: ErrorSpec(400, "Time not an ISO 8601 date and time with a time zone"),
    ErrorCode.TIME_RANGE_INVALID: ErrorSpec(400, "Time range ends before it starts"),
    ErrorCode.REQUEST_INVALID: ErrorSpec(422, "Request parameters or JSON body invalid"),
    ErrorCode.JSON_NOT_WELL_FORMED: ErrorSpec(400, "JSON body not well-formed"),
    ErrorCode.ROUTE_NOT_FOUND: ErrorSpec(404, "No such route"),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(405, "Method not allowed on this route"),
    ErrorCode.ATTACHMENT_MEDIA_TYPE: ErrorSpec(415, "Attachment media type not allowed"),
    ErrorCode.ATTACHMENT_UNKNOWN: ErrorSpec(422, "Message references an attachment Silta does not hold"),
    ErrorCode.ATTACHMENT_MISMATCH: ErrorSpec(422, "Attachment manifest does not match the attachment"),
    ErrorCode.ATTACHMENT_NOT_FOUND: ErrorSpec(404, "Attachment not found"),
    ErrorCode.GUARDIAN_ASSERTION_MISSING: ErrorSpec(401, "Guardian assertion required"),
    ErrorCode.GUARDIAN_ASSERTION_INVALID: ErrorSpec(401, "Invalid guardian assertion"),
    ErrorCode.GUARDIAN_ASSERTION_REPLAYED: ErrorSpec(401, "Guardian assertion already used"),
    ErrorCode.CLIENT_NOT_ALLOWED: ErrorSpec(403, "Client may not use this route"),
    ErrorCode.PRINCIPAL_NOT_FOUND: ErrorSpec(404, "Principal not found"),
    ErrorCode.REQUEST_NOT_FOUND: ErrorSpec(404, "Open request not found"),
    ErrorCode.TRANSITION_ILLEGAL: ErrorSpec(409, "The message it refers to is closed for this step"),
    ErrorCode.INTERNAL_ERROR: ErrorSpec(500, "Silta could not handle the message"),
    ErrorCode.MANDATE_IMPORT_INVALID: ErrorSpec(422, "Mandate import refused"),
    ErrorCode.CONSOLE_SESSION_MISSING: ErrorSpec(401, "Console session required"),
    ErrorCode.CSRF_TOKEN_INVALID: ErrorSpec(403, "CSRF token missing or wrong"),
    ErrorCode.PARKED_RECORD_NOT_FOUND: ErrorSpec(404, "Parked record not found"),
    ErrorCode.PARKED_RECORD_RESOLVED: ErrorSpec(409, "Parked record already replayed or discarded"),
    ErrorCode.DISCARD_REASON_MISSING: ErrorSpec(422, "A discard needs a reason"),
    ErrorCode.X_ROAD_HEADER_INVALID: ErrorSpec(400, "X-Road header invalid"),
}


@dataclass(frozen=True)
class ErrorItem:
    """One thing wrong at one place in the document."""

    path: str
    reason: str


@dataclass
class Rejection(Exception):  # noqa: N818  a rejection is an outcome, not a program error
    """Input was refused. Raised by any stage; rendered by the channel."""

    code: ErrorCode
    detail: str
    errors: list[ErrorItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.detail}")

    @property
    def status(self) -> int:
        """The HTTP status that goes with the code."""
        return ERROR_SPECS[self.code].status

    @property
    def title(self) -> str:
        """A short, fixed title for the code."""
        return ERROR_SPECS[self.code].title
