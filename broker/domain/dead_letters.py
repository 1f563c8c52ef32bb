"""Dead letters as the operator sees them: what to list (a filter), what a replay came to, and the counts.

Pure types shared by the store, the service and the channels: a filter over
parked records (reason code, topic, sender party, time range, state) with id
paging, a record's state (unresolved, replayed, discarded), and the outcome of
replaying one record or many.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

REASON_PATTERN = r"^[a-z0-9-]{1,64}$"
TOPIC_PATTERN = r"^[a-z0-9.-]{1,64}$"
PARTY_PATTERN = r"^[a-z0-9-]{1,32}$"
"""What a filter's reason code, topic and sender may look like: anything else matches nothing Silta holds."""

KIND_PARKED = "parked-record"
KIND_REST = "rest-rejection"


class ParkedState(StrEnum):
    """Where a parked record stands: still to resolve, replayed into a message, or discarded with a reason."""

    UNRESOLVED = "unresolved"
    REPLAYED = "replayed"
    DISCARDED = "discarded"
    ALL = "all"


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters to list or replay; every field left None matches everything.

    `sender` is an organiser's party id: its records are the ones on its `from` topic.
    Paging is by id: `after` is the last id of the page before.
    """

    reason: str | None = None
    topic: str | None = None
    sender: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    state: ParkedState = ParkedState.UNRESOLVED
    after: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        # Times without a zone are taken as UTC, as Silta stores every time.
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=dt.UTC))


class ReplayOutcome(StrEnum):
    """What replaying one parked record came to."""

    DELIVERED = "delivered"
    """The record's message was accepted and stored; it goes on to its recipient."""
    DUPLICATE = "duplicate"
    """The message was already stored (the organiser sent it again meanwhile): resolved, nothing stored twice."""
    PARKED_AGAIN = "parked-again"
    """It failed again: the row keeps its value, with the new error and one more attempt."""
    SKIPPED = "skipped"
    """Already replayed or discarded (another operator was first), or its value is gone: nothing done."""


@dataclass(frozen=True)
class ReplayResult:
    """One replay: its outcome, the message id it became (if any), and the error when it failed again."""

    record_id: int
    outcome: ReplayOutcome
    message_id: str | None = None
    error_code: str | None = None


@dataclass
class ReplayCounts:
    """What a replay of many came to."""

    delivered: int = 0
    duplicate: int = 0
    parked_again: int = 0
    skipped: int = 0

    def add(self, outcome: ReplayOutcome) -> None:
        """Count one record's outcome."""
        match outcome:
            case ReplayOutcome.DELIVERED:
                self.delivered += 1
            case ReplayOutcome.DUPLICATE:
                self.duplicate += 1
            case ReplayOutcome.PARKED_AGAIN:
                self.parked_again += 1
            case ReplayOutcome.SKIPPED:
                self.skipped += 1


@dataclass(frozen=True)
class RestRejectionFacts:
    """A REST rejection as it is kept: no body, no URL, no detail text (which might carry an identity code)."""

    client_id: str | None
    caller_party: str | None
    method: str
    route: str
    error_code: str
    status: int
    body_size: int
    body_sha256: str | None
    request_id: str | None
