"""The common envelope every message starts with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ENVELOPE_NAMESPACE = "urn:fi:silta:envelope:1"


@dataclass(frozen=True)
class Envelope:
    """Who sends what about whom, and on what legal basis.

    `data_subject` is a personal identity code (absent only from receipts):
    never log it, never put it in a URL or a Kafka key.
    """

    message_id: str
    message_type: str
    schema_version: str
    sender: str
    recipient: str | None
    case_id: str
    correlation_id: str | None
    data_subject: str | None
    created_at: dt.datetime
    legal_basis: str

    def __repr__(self) -> str:
        return (
            f"Envelope(message_id={self.message_id!r}, message_type={self.message_type!r}, "
            f"sender={self.sender!r}, recipient={self.recipient!r}, case_id={self.case_id!r})"
        )
