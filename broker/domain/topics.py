"""Topic names, made in one place: `silta.<direction>.<party>.v<version>`.

`silta.to.<party>.v1` is what a party consumes (an organiser, or a
municipality for immigrant notices); `silta.from.<org>.v1` is what an
organiser writes to Kela. Kela itself has no topic: its inbox is read over
REST, and records addressed to it never reach Kafka.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from broker.domain.parties import KELA, PartyRole, all_organisers, role_of

TOPIC_VERSION = 1
KELA_INBOX = "inbox:kela"
"""Where records addressed to Kela go instead of a topic: Kela's inbox, read over REST (never a Kafka name)."""
_WRITERS = frozenset({PartyRole.ORGANISER})
_READERS = frozenset({PartyRole.ORGANISER, PartyRole.MUNICIPALITY})
_NAME = re.compile(r"^silta\.(to|from)\.([a-z0-9-]{1,32})\.v([1-9][0-9]{0,2})$")


class TopicDirection(StrEnum):
    """Whether the party reads the topic (`to`) or writes it (`from`)."""

    TO = "to"
    FROM = "from"


@dataclass(frozen=True)
class Topic:
    """A topic of Silta's: direction, party and contract version."""

    direction: TopicDirection
    party: str
    version: int = TOPIC_VERSION

    def __post_init__(self) -> None:
        allowed = _WRITERS if self.direction is TopicDirection.FROM else _READERS
        if role_of(self.party) not in allowed:
            raise ValueError(f"{self.party!r} has no silta.{self.direction} topic")

    def __str__(self) -> str:
        return f"silta.{self.direction}.{self.party}.v{self.version}"

    @classmethod
    def parse(cls, name: str) -> Topic | None:
        """The topic a name stands for, or None if it is not one of Silta's."""
        found = _NAME.match(name)
        if found is None:
            return None
        try:
            return cls(TopicDirection(found.group(1)), found.group(2), int(found.group(3)))
        except ValueError:
            return None


def topic_to(party: str) -> str:
    """The topic a party consumes: `silta.to.<party>.v1`."""
    return str(Topic(TopicDirection.TO, party))


def destination_of(party: str) -> str:
    """Where a record for `party` is delivered: Kela's inbox, or the party's `to` topic."""
    return KELA_INBOX if party == KELA else topic_to(party)


def topic_from(organiser: str) -> str:
    """The topic an organiser writes to Kela on: `silta.from.<org>.v1`."""
    return str(Topic(TopicDirection.FROM, organiser))


def writer_of(name: str) -> str | None:
    """The organiser whose `from` topic this is, or None."""
    topic = Topic.parse(name)
    return topic.party if topic is not None and topic.direction is TopicDirection.FROM else None


def from_topics() -> list[str]:
    """The topics organisers write to, one for each of the 22."""
    return [topic_from(org) for org in all_organisers()]
