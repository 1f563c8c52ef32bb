"""The clock port: the core reads the time only through it, so tests can move time.

`SystemClock` is the one used in production; `ManualClock` is the in-memory
fake that unit and integration tests hand to the service layer to make a due
date pass or a retention period end without sleeping.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Tells the current time, always timezone-aware UTC."""

    def now(self) -> dt.datetime:
        """The current time in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        """The current time in UTC."""
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """The time the test has set."""
        return self._now

    def advance(self, by: dt.timedelta) -> None:
        """Move the clock forward."""
        self._now += by

    def set(self, to: dt.datetime) -> None:
        """Put the clock at a given time (must be timezone-aware)."""
        if to.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._now = to


FINLAND = ZoneInfo("Europe/Helsinki")


def finnish_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Finland at `moment`: due dates and mandates are Finnish dates, whatever the host's zone."""
    return moment.astimezone(FINLAND).date()


def today(clock: Clock) -> dt.date:
    """Today's date in Finland by `clock`."""
    return finnish_date(clock.now())
