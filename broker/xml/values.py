"""XSD 1.0 simple-type text to Python values, by the rules of XML Schema Part 2, not Python's.

Python's parsers disagree with XML Schema at the edges: `datetime.fromisoformat`
refuses `24:00:00` (XSD: midnight at the end of the day, that is 00:00:00 of the
next day), `Decimal` accepts `1e5`, `NaN` and `1_000`, `int` accepts Arabic-Indic
digits and refuses more than 4300 digits, and `str.strip` removes no-break spaces
that XSD keeps. Every value Silta reads from a document goes through here.

The lexical rules (XSD 1.0, as libxml2 on the hot path applies them):

- whitespace is collapsed first (only space, tab, CR, LF are whitespace);
- xs:dateTime is `[-]YYYY-MM-DDThh:mm:ss[.s+][zone]`: year 0000 does not exist,
  years have four or more digits, hour 24 only as `24:00:00` (any zero fraction),
  no leap second (`23:59:60` is invalid in XSD 1.0), zone `Z` or `±hh:mm` up to 14:00;
- xs:date is `[-]YYYY-MM-DD[zone]`;
- xs:decimal is `[+-]digits[.digits]` (no exponent, no NaN or INF);
- xs:boolean is `true`, `false`, `1` or `0`;
- xs:integer (and its restrictions such as xs:long) is `[+-]digits`.

Representation, documented choices:

- xs:dateTime becomes a `datetime`, aware (fixed `timezone`) when the text has a zone,
  naive when it has none; `24:00:00` becomes 00:00:00 of the next day; fractional
  seconds beyond microseconds are truncated toward zero (never rounded up into the
  next second, day or year).
- xs:date becomes the calendar date as written; its zone, if any, is in `XsdDate`.
- A value XSD allows but Python cannot hold raises `ValueOutOfRange`: a year before 1
  or after 9999 (negative years, five-digit years, `9999-12-31T24:00:00`), or a zoned
  dateTime whose UTC instant falls outside those years (`0001-01-01T00:00:00+14:00`).
- xs:decimal keeps every digit (no context rounding); `-0` becomes `0`.

Text that is not a lexical form of the type raises `InvalidLexical`. Both are
`XsdValueError`s; `read_value` turns them into coded rejections with the element's path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, TypeVar

from lxml import etree

from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.xml.paths import element_path

T = TypeVar("T")

_XML_WHITESPACE = re.compile(r"[ \t\r\n]+")
_YEAR = r"(?P<year>-?(?:[1-9][0-9]{4,}|[0-9]{4}))"
_DATE = _YEAR + r"-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
_ZONE = r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?"
_TIME = r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
_DATETIME_RE = re.compile(_DATE + "T" + _TIME + _ZONE, re.ASCII)
_DATE_RE = re.compile(_DATE + _ZONE, re.ASCII)
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_INTEGER_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_MAX_ZONE_MINUTES = 14 * 60
_MAX_INTEGER_DIGITS = 4000  # below Python's int-from-text limit of 4300 digits
_MAX_CHECKED_YEAR_DIGITS = 18  # longer years are out of range without looking further


class XsdValueError(ValueError):
    """Text that cannot become a Python value of its XSD type."""

    def __init__(self, xsd_type: str, reason: str) -> None:
        super().__init__(f"{xsd_type}: {reason}")
        self.xsd_type = xsd_type
        self.reason = reason


class InvalidLexical(XsdValueError):  # noqa: N818  named for what the text is, like the XSD spec does
    """The text is not a lexical form of the type (the schema should have refused it)."""


class ValueOutOfRange(XsdValueError):  # noqa: N818  named for what the value is
    """A valid XSD value that Python's types cannot represent (a year outside 1-9999)."""


class XsdDate(NamedTuple):
    """An xs:date: the calendar date as written, and its time zone if it has one."""

    date: dt.date
    zone: dt.timezone | None


@dataclass(frozen=True)
class _Moment:
    """The parts of a date or dateTime, checked, before they become Python values."""

    year: int
    month: int
    day: int
    zone: dt.timezone | None


def collapse(text: str) -> str:
    """The `whiteSpace="collapse"` facet: runs of XML whitespace to one space, none at the ends."""
    return _XML_WHITESPACE.sub(" ", text).strip(" ")


def parse_boolean(text: str) -> bool:
    """An xs:boolean: `true`/`1` or `false`/`0`, after collapsing whitespace."""
    value = _BOOLEANS.get(collapse(text))
    if value is None:
        raise InvalidLexical("xs:boolean", "not true, false, 1 or 0")
    return value


def parse_decimal(text: str) -> Decimal:
    """An xs:decimal with every digit kept: no exponent, NaN, infinity or digit separators."""
    lexical = collapse(text)
    if _DECIMAL_RE.fullmatch(lexical) is None:
        raise InvalidLexical("xs:decimal", "not [+-]digits[.digits]")
    value = Decimal(lexical)
    return value.copy_abs() if value.is_zero() else value


def parse_integer(text: str) -> int:
    """An xs:integer (or xs:long, xs:positiveInteger, …: the schema checks their bounds)."""
    lexical = collapse(text)
    if _INTEGER_RE.fullmatch(lexical) is None:
        raise InvalidLexical("xs:integer", "not [+-]digits")
    digits = lexical.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _MAX_INTEGER_DIGITS:
        raise ValueOutOfRange("xs:integer", f"more than {_MAX_INTEGER_DIGITS} digits")
    return -int(digits) if lexical.startswith("-") else int(digits)


def parse_date(text: str) -> dt.date:
    """An xs:date as the calendar date written (a time zone, if any, does not shift it)."""
    return parse_zoned_date(text).date


def parse_zoned_date(text: str) -> XsdDate:
    """An xs:date with its time zone (None if the text has none)."""
    match = _DATE_RE.fullmatch(collapse(text))
    if match is None:
        raise InvalidLexical("xs:date", "not [-]YYYY-MM-DD[zone]")
    moment = _moment(match, "xs:date")
    return XsdDate(_in_python_range(moment, "xs:date"), moment.zone)


def parse_datetime(text: str) -> dt.datetime:
    """An xs:dateTime: `24:00:00` is the next day's midnight; aware if zoned, naive if not."""
    match = _DATETIME_RE.fullmatch(collapse(text))
    if match is None:
        raise InvalidLexical("xs:dateTime", "not [-]YYYY-MM-DDThh:mm:ss[.fraction][zone]")
    moment = _moment(match, "xs:dateTime")
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    fraction = match["fraction"] or ""
    end_of_day = hour == 24  # noqa: PLR2004  XSD's end-of-day hour
    if end_of_day and ((minute, second) != (0, 0) or fraction.strip("0")):
        raise InvalidLexical("xs:dateTime", "hour 24 is allowed only as 24:00:00")
    if not end_of_day and (hour > 23 or minute > 59 or second > 59):  # noqa: PLR2004
        raise InvalidLexical("xs:dateTime", "no such time of day (XSD 1.0 has no leap second)")
    day = _in_python_range(moment, "xs:dateTime")
    if end_of_day:
        day = _next_day(day, "xs:dateTime")
        hour = 0
    microsecond = int(fraction[:6].ljust(6, "0"))
    value = dt.datetime.combine(day, dt.time(hour, minute, second, microsecond), moment.zone)
    _check_utc_in_range(value)
    return value


def read_value(node: etree._Element, parse: Callable[[str], T]) -> T:
    """The value of an element's text, or a coded `Rejection` naming the element's path."""
    try:
        return parse(node.text or "")
    except ValueOutOfRange as error:
        raise Rejection(
            ErrorCode.VALUE_OUT_OF_RANGE,
            f"a {error.xsd_type} value Silta cannot represent",
            [ErrorItem(element_path(node), error.reason)],
        ) from None
    except InvalidLexical as error:
        raise Rejection(
            ErrorCode.SCHEMA_INVALID,
            f"not a valid {error.xsd_type}",
            [ErrorItem(element_path(node), error.reason)],
        ) from None


def _moment(match: re.Match[str], xsd_type: str) -> _Moment:
    """Year, month, day and zone of a matched date or dateTime, checked by XSD's calendar (any year)."""
    year_text = match["year"]
    if year_text.lstrip("-") == "0000":
        raise InvalidLexical(xsd_type, "XSD 1.0 has no year 0000")
    if len(year_text.lstrip("-")) > _MAX_CHECKED_YEAR_DIGITS:
        raise ValueOutOfRange(xsd_type, "the year is outside 0001-9999")
    year, month, day = int(year_text), int(match["month"]), int(match["day"])
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):  # noqa: PLR2004
        raise InvalidLexical(xsd_type, "no such calendar date")
    return _Moment(year, month, day, _zone(match["zone"], xsd_type))


def _days_in_month(year: int, month: int) -> int:
    """Gregorian month lengths for any year number, as libxml2 counts them (also before year 1)."""
    if month == 2:  # noqa: PLR2004
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _in_python_range(moment: _Moment, xsd_type: str) -> dt.date:
    if not dt.MINYEAR <= moment.year <= dt.MAXYEAR:
        raise ValueOutOfRange(xsd_type, "the year is outside 0001-9999")
    return dt.date(moment.year, moment.month, moment.day)


def _zone(text: str | None, xsd_type: str) -> dt.timezone | None:
    if text is None:
        return None
    if text == "Z":
        return dt.UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    total = hours * 60 + minutes
    if minutes > 59 or total > _MAX_ZONE_MINUTES:  # noqa: PLR2004
        raise InvalidLexical(xsd_type, "a time zone is at most ±14:00")
    offset = dt.timedelta(minutes=total)
    return dt.UTC if total == 0 else dt.timezone(-offset if text[0] == "-" else offset)


def _next_day(day: dt.date, xsd_type: str) -> dt.date:
    if day == dt.date.max:
        raise ValueOutOfRange(xsd_type, "9999-12-31T24:00:00 is in the year 10000")
    return day + dt.timedelta(days=1)


def _check_utc_in_range(value: dt.datetime) -> None:
    """A zoned value must also be representable in UTC: storing and comparing convert it."""
    if value.tzinfo is None:
        return
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueOutOfRange("xs:dateTime", "the instant in UTC is outside 0001-9999") from None
