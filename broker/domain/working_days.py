"""Finnish working days: Monday to Friday, except public holidays and the eves offices close on.

Agreed response times are counted in working days. A working day here is a
weekday that is not a Finnish public holiday (Act 1400/1990 on public
holidays and the Church's feast days it names) nor Midsummer Eve or Christmas
Eve, on which public offices are closed. Saturdays are never working days (as
in the Act on the Calculation of Time Limits 150/1930, 5 §, a deadline that
falls on a holiday, Saturday or eve moves to the next working day).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

_FRIDAY = 4
_SEARCH_LIMIT = 400
"""More calendar days than any agreed time in working days can span (guards the inverse searches)."""


def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@cache
def finnish_holidays(year: int) -> frozenset[dt.date]:
    """The weekdays of `year` that are not working days: public holidays, Midsummer Eve and Christmas Eve."""
    easter = easter_sunday(year)
    midsummer_eve = next(dt.date(year, 6, d) for d in range(19, 26) if dt.date(year, 6, d).weekday() == _FRIDAY)
    fixed = [(1, 1), (1, 6), (5, 1), (12, 6), (12, 24), (12, 25), (12, 26)]
    moving = [easter - dt.timedelta(days=2), easter + dt.timedelta(days=1), easter + dt.timedelta(days=39)]
    return frozenset([dt.date(year, m, d) for m, d in fixed] + moving + [midsummer_eve])


def is_working_day(day: dt.date) -> bool:
    """Whether offices work on `day` in Finland."""
    return day.weekday() <= _FRIDAY and day not in finnish_holidays(day.year)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The `count`th working day after `start` (`start` itself never counts); 0 is the first working day from it."""
    day = start
    if count == 0:
        while not is_working_day(day):
            day += dt.timedelta(days=1)
        return day
    remaining = count
    while remaining:
        day += dt.timedelta(days=1)
        remaining -= is_working_day(day)
    return day


def latest_start(count: int, due_by: dt.date) -> dt.date:
    """The latest start date whose deadline (`count` working days after it) falls on or before `due_by`.

    The inverse of `add_working_days`, for set-wise queries: a message published
    on or before this date has its deadline on or before `due_by`.
    """
    day = due_by
    for _ in range(_SEARCH_LIMIT):
        if add_working_days(day, count) <= due_by:
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"no start within {_SEARCH_LIMIT} days for {count} working days")
