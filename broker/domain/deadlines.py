"""Deadlines per message type: what answer a type waits for, by when, and when to remind.

A message type that expects an answer names it in the catalogue with a
`Deadline`: what it awaits (Silta's technical receipt, the recipient's
business receipt, or an answer that closes it), the answer types that meet it,
the response time and the legal basis or agreement behind it, and how many
working days before the deadline the party that must answer is reminded.
Types without a deadline of their own fall back on the receipt timeout (the
`SILTA_RECEIPT_TIMEOUT_HOURS` setting): a business receipt within that long
after publication.

The clock runs from the message's publication (delivery to the recipient's
topic or Kela's inbox), in Finnish dates; working days as in
`broker.domain.working_days`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from broker.domain.clock import FINLAND
from broker.domain.lifecycle import TRANSPORT, Status
from broker.domain.working_days import add_working_days, latest_start


class Awaited(StrEnum):
    """What meets a deadline."""

    DELIVERY = "delivery"
    """Silta's technical receipt only: the message reached the recipient's topic or inbox."""
    BUSINESS_RECEIPT = "business-receipt"
    """The recipient's business receipt "received into case" (or an answer that closes the message)."""
    ANSWER = "answer"
    """An answer that closes the message (a response, a cancellation)."""

    @property
    def unmet(self) -> tuple[Status, ...]:
        """The statuses in which the deadline still runs (closed messages have met it)."""
        if self is Awaited.DELIVERY:
            return (Status.ACCEPTED,)
        if self is Awaited.BUSINESS_RECEIPT:
            return tuple(s for s in TRANSPORT if s is not Status.RECEIVED)
        return TRANSPORT


@dataclass(frozen=True)
class Deadline:
    """A message type's response time: what it waits for, how long, on what basis, and the reminder."""

    awaits: Awaited
    answered_by: frozenset[str]
    """The message types that meet the deadline."""
    basis: str
    """The statute section that sets the time, or "agreed" and the agreement where the law sets none."""
    working_days: int | None = None
    """Working days after publication; None: the receipt timeout (hours) applies."""
    from_due_date: bool = False
    """The message names its own due date; `working_days` is the default for one that has none."""
    reminder_lead_days: int = 0
    """Remind the party that must answer when the deadline is this many working days away; 0: never."""

    def due_on(self, published: dt.date, due_date: dt.date | None) -> dt.date | None:
        """The last day to answer a message published on `published`; None if the receipt timeout applies."""
        if self.from_due_date and due_date is not None:
            return due_date
        return None if self.working_days is None else add_working_days(published, self.working_days)

    @property
    def reminds(self) -> bool:
        """Whether the party that must answer is reminded before the deadline."""
        return self.reminder_lead_days > 0


def reminder_horizon(today: dt.date, lead_days: int) -> dt.date:
    """Deadlines on or before this day are near enough today to remind of (`lead_days` working days ahead)."""
    return add_working_days(today, lead_days)


def published_by(working_days: int, due_by: dt.date) -> dt.datetime:
    """The instant before which a message must have been published for its deadline to fall on or before `due_by`."""
    last_day = latest_start(working_days, due_by)
    return finnish_midnight(last_day + dt.timedelta(days=1))


def finnish_midnight(day: dt.date) -> dt.datetime:
    """The start of a Finnish calendar day, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=FINLAND).astimezone(dt.UTC)
