"""The Kafka record headers Silta writes and reads. None of them carries personal data."""

from __future__ import annotations

MESSAGE_ID = "silta-message-id"
MESSAGE_TYPE = "silta-message-type"
SCHEMA = "silta-schema"
"""The message type's namespace and schema version, `urn:fi:silta:<type>:1#1.0`."""
SENDER = "silta-sender"
RECIPIENT = "silta-recipient"
CORRELATION_ID = "silta-correlation-id"
FREE_TEXT = "silta-free-text"
"""Paths (never text) of free-text fields that reached the recipient."""
RECEIPTED_POSITION = "silta-receipted-position"
"""On a technical receipt: topic/partition/offset of the record it receipts."""
SIGNATURE = "silta-signature"
SIGNATURE_KEY = "silta-signature-key"
