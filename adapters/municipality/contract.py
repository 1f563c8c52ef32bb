"""The topic contract between Silta and an organiser's case system: topic names, headers, consumer group."""

from __future__ import annotations

from broker.domain import headers
from broker.domain.parties import PartyRole, role_of
from broker.domain.topics import topic_from, topic_to

HEADER_MESSAGE_ID = headers.MESSAGE_ID
HEADER_MESSAGE_TYPE = headers.MESSAGE_TYPE
HEADER_SCHEMA = headers.SCHEMA
HEADER_SENDER = headers.SENDER


def inbound_topic(org: str) -> str:
    """The topic an organiser (or a municipality, for immigrant notices) consumes: `silta.to.<party>.v1`."""
    if role_of(org) not in {PartyRole.ORGANISER, PartyRole.MUNICIPALITY}:
        raise ValueError(f"{org!r} is not an organiser or municipality id (hva-01 … hva-21, hva-90, kunta-NNN)")
    return topic_to(org)


def outbound_topic(org: str) -> str:
    """The topic an organiser writes its messages to Kela on: `silta.from.<org>.v1`."""
    if role_of(org) is not PartyRole.ORGANISER:
        raise ValueError(f"{org!r} is not an organiser id (hva-01 … hva-21, hva-90)")
    return topic_from(org)


def consumer_group(org: str) -> str:
    """The default consumer group of an organiser's case system."""
    return f"{org}.case-system"
