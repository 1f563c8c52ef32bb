"""The topic contract between Silta and an organiser's case system."""

from __future__ import annotations

import re

ORGANISER_ID = re.compile(r"^hva-(0[1-9]|1[0-9]|2[01]|90)$")
RECIPIENT_ID = re.compile(r"^(hva-(0[1-9]|1[0-9]|2[01]|90)|kunta-[0-9]{3})$")
HEADER_MESSAGE_ID = "silta-message-id"
HEADER_MESSAGE_TYPE = "silta-message-type"
HEADER_SCHEMA = "silta-schema"
HEADER_SENDER = "silta-sender"


def inbound_topic(org: str) -> str:
    """The topic an organiser (or a municipality, for immigrant notices) consumes: `silta.to.<party>.v1`."""
    if not RECIPIENT_ID.match(org):
        raise ValueError(f"{org!r} is not an organiser or municipality id (hva-01 … hva-21, hva-90, kunta-NNN)")
    return f"silta.to.{org}.v1"


def outbound_topic(org: str) -> str:
    """The topic an organiser writes its messages to Kela on: `silta.from.<org>.v1`."""
    if not ORGANISER_ID.match(org):
        raise ValueError(f"{org!r} is not an organiser id (hva-01 … hva-21, hva-90)")
    return f"silta.from.{org}.v1"


def consumer_group(org: str) -> str:
    """The default consumer group of an organiser's case system."""
    return f"{org}.case-system"
