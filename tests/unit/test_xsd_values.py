"""XSD simple-type text to Python values: the edges XML Schema 1.0 allows and Python's parsers get wrong.

libxml2 (the hot path's validator) and elementpath (xmlschema's datatypes) are the
oracles: whatever libxml2 accepts must parse or be a typed out-of-range error, never
an invalid-lexical one, and a parsed value must equal elementpath's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from elementpath.datatypes import Date10, DateTime10
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree

from broker.domain.errors import ErrorCode, Rejection
from broker.xml.values import (
    InvalidLexical,
    ValueOutOfRange,
    XsdValueError,
    collapse,
    parse_boolean,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_integer,
    parse_zoned_date,
    read_value,
)

_TYPES = ("dateTime", "date", "decimal", "boolean", "integer")
_ORACLE = etree.XMLSchema(
    etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="v"><xs:complexType>'
        + "".join(f'<xs:attribute name="{t}" type="xs:{t}"/>' for t in _TYPES)
        + "</xs:complexType></xs:element></xs:schema>"
    )
)
UTC = dt.UTC


def _libxml2_accepts(xsd_type: str, text: str) -> bool:
    """Whether libxml2 takes `text` as a value of xs:`xsd_type`."""
    return bool(_ORACLE.validate(etree.Element("v", {xsd_type: text})))


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


_YEARS = st.one_of(
    st.sampled_from(["0001", "9999", "0000", "-0001", "-0000", "10000", "99999999999999", "1900", "2000", "00001"]),
    st.integers(1, 9999).map(lambda n: f"{n:04d}"),
)
_ZONES = st.one_of(
    st.sampled_from(["", "Z", "+00:00", "-00:00", "+14:00", "-14:00", "+14:01", "+13:59"]),
    st.tuples(st.sampled_from("+-"), _two(0, 15), _two(0, 60)).map(lambda t: f"{t[0]}{t[1]}:{t[2]}"),
)
_DATES = st.tuples(_YEARS, _two(0, 13), _two(0, 32)).map("-".join)
_TIMES = st.tuples(
    _two(0, 25), _two(0, 60), _two(0, 61), st.one_of(st.just(""), st.text("0123456789", max_size=12).map(".{}".format))
).map(lambda t: f"{t[0]}:{t[1]}:{t[2]}{t[3]}")
DATETIME_TEXTS = st.tuples(_DATES, _TIMES, _ZONES).map(lambda t: f"{t[0]}T{t[1]}{t[2]}")
DATE_TEXTS = st.tuples(_DATES, _ZONES).map("".join)


@given(DATETIME_TEXTS)
@example("2025-03-10T24:00:00Z")
@example("9999-12-31T24:00:00Z")
@example("2025-12-31T24:00:00.000+02:00")
@example("2016-12-31T23:59:60Z")
@example("0001-01-01T00:00:00+14:00")
@example("9999-12-31T23:00:00-14:00")
def test_datetime_agrees_with_libxml2_and_elementpath(text: str) -> None:
    """What libxml2 accepts parses (or is out of Python's range); what it refuses never parses."""
    try:
        value = parse_datetime(text)
    except ValueOutOfRange:
        assert _libxml2_accepts("dateTime", text)
        return
    except InvalidLexical:
        assert not _libxml2_accepts("dateTime", text)
        return
    assert _libxml2_accepts("dateTime", text)
    expected = DateTime10.fromstring(text)
    assert (value.year, value.month, value.day) == (expected.year, expected.month, expected.day)
    assert (value.hour, value.minute, value.second, value.microsecond) == (
        expected.hour,
        expected.minute,
        int(expected.second),
        expected.microsecond,
    )
    assert value.utcoffset() == (None if expected.tzinfo is None else expected.tzinfo.utcoffset(None))


@given(DATE_TEXTS)
@example("2025-03-10+14:00")
@example("-0001-03-10")
@example("10000-03-10")
def test_date_agrees_with_libxml2_and_elementpath(text: str) -> None:
    """xs:date: the calendar date as written, with its zone; out-of-range years are typed errors."""
    try:
        value = parse_zoned_date(text)
    except ValueOutOfRange:
        assert _libxml2_accepts("date", text)
        return
    except InvalidLexical:
        assert not _libxml2_accepts("date", text)
        return
    assert _libxml2_accepts("date", text)
    expected = Date10.fromstring(text)
    assert (value.date.year, value.date.month, value.date.day) == (expected.year, expected.month, expected.day)
    assert (value.zone is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-10T24:00:00Z", dt.datetime(2025, 3, 11, tzinfo=UTC)),
        ("2025-12-31T24:00:00+02:00", dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
        ("2024-02-28T24:00:00Z", dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("2025-03-10T10:00:00.123456789Z", dt.datetime(2025, 3, 10, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2025-03-10T23:59:59.9999999Z", dt.datetime(2025, 3, 10, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2025-03-10T10:00:00-00:00", dt.datetime(2025, 3, 10, 10, tzinfo=UTC)),
        ("2025-03-10T10:00:00-14:00", dt.datetime(2025, 3, 11, 0, tzinfo=UTC)),
        ("\n  2025-03-10T10:00:00Z\t", dt.datetime(2025, 3, 10, 10, tzinfo=UTC)),
        ("2025-03-10T10:00:00", dt.datetime(2025, 3, 10, 10)),
    ],
)
def test_datetime_edges_become_the_xsd_value(text: str, expected: dt.datetime) -> None:
    """24:00:00 is the next day's midnight, long fractions are truncated, zones and whitespace follow XSD."""
    value = parse_datetime(text)
    assert value == expected
    assert (value.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    "text",
    ["9999-12-31T24:00:00Z", "-0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00"],
)
def test_datetime_python_cannot_hold_is_out_of_range(text: str) -> None:
    """Valid XSD, outside Python's years 1-9999 (locally or in UTC): a typed error, never a bare ValueError."""
    with pytest.raises(ValueOutOfRange):
        parse_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "2016-12-31T23:59:60Z",  # XSD 1.0 has no leap second
        "2025-03-10T24:00:01Z",
        "2025-03-10T24:00:00.5Z",
        "0000-01-01T00:00:00Z",
        "2025-03-10T10:00:00+14:30",
        "2025-03-10T10:00:00Z\u00a0",  # a no-break space is not XML whitespace
        "2025-03-10T10:00Z",
        "2025-02-29T00:00:00Z",
        "٢٠٢٥-03-10T10:00:00Z",
    ],
)
def test_datetime_not_in_xsd_is_invalid_lexical(text: str) -> None:
    """Leap seconds, hour 24 with minutes, year 0000 and non-XML whitespace are not xs:dateTime."""
    with pytest.raises(InvalidLexical):
        parse_datetime(text)


def test_date_keeps_the_calendar_date_and_its_zone() -> None:
    """A due date written with a zone is that calendar date; the zone is kept beside it."""
    assert parse_date("2025-03-21-14:00") == dt.date(2025, 3, 21)
    assert parse_zoned_date("2025-03-21Z").zone is UTC
    with pytest.raises(ValueOutOfRange):
        parse_date("10000-01-01")


DECIMAL_TEXTS = st.text("0123456789+-.eE_ \n", min_size=1, max_size=40) | st.decimals(allow_nan=False).map(str)


@given(DECIMAL_TEXTS)
@example("1e5")
@example("NaN")
@example("1_000")
@example("-0.00")
@example(".5")
@example("5.")
def test_decimal_agrees_with_libxml2(text: str) -> None:
    """xs:decimal: what libxml2 accepts is the exact Decimal of the digits; nothing else parses."""
    accepted = _libxml2_accepts("decimal", text)
    try:
        value = parse_decimal(text)
    except InvalidLexical:
        assert not accepted
        return
    assert accepted
    assert value == Decimal(collapse(text))
    assert not value.is_signed() or not value.is_zero()


def test_decimal_keeps_every_digit() -> None:
    """Many digits are not rounded to the context's 28; negative zero is zero."""
    digits = "0." + "1" * 60
    assert str(parse_decimal(digits)) == digits
    assert str(parse_decimal("-0.00")) == "0.00"


@given(st.text("0123456789+- \t", min_size=1, max_size=30))
@example("٥")
def test_integer_agrees_with_libxml2(text: str) -> None:
    """xs:integer: ASCII digits with an optional sign, whitespace collapsed."""
    try:
        value = parse_integer(text)
    except InvalidLexical:
        assert not _libxml2_accepts("integer", text)
        return
    assert _libxml2_accepts("integer", text)
    assert value == int(collapse(text))


def test_integer_of_thousands_of_digits_is_out_of_range_not_a_value_error_from_int() -> None:
    """Python's int() refuses more than 4300 digits; leading zeros do not count."""
    assert parse_integer("0" * 5000 + "7") == 7
    with pytest.raises(ValueOutOfRange):
        parse_integer("9" * 5000)


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("1", True), (" false\n", False), ("0", False)])
def test_boolean_lexical_forms(text: str, expected: bool) -> None:
    """xs:boolean has four lexical forms; whitespace is collapsed."""
    assert parse_boolean(text) is expected


@pytest.mark.parametrize("text", ["True", "yes", "", "tru e", "\u00a0true"])
def test_boolean_other_text_is_invalid(text: str) -> None:
    """Case matters and only XML whitespace is collapsed."""
    with pytest.raises(InvalidLexical):
        parse_boolean(text)


def test_collapse_touches_only_xml_whitespace() -> None:
    """Tabs, newlines and runs of spaces become one space; a no-break space stays."""
    assert collapse("\t a \n\r  b  ") == "a b"
    assert collapse("\u00a0a") == "\u00a0a"


def test_read_value_gives_a_coded_rejection_with_the_path() -> None:
    """Out of range → value-out-of-range; not lexical → schema-invalid; both name the element."""
    root = etree.fromstring("<Notice><When>9999-12-31T24:00:00Z</When><Day>2025-02-30</Day></Notice>")
    with pytest.raises(Rejection) as caught:
        read_value(root[0], parse_datetime)
    assert caught.value.code is ErrorCode.VALUE_OUT_OF_RANGE
    assert [e.path for e in caught.value.errors] == ["/Notice/When"]
    with pytest.raises(Rejection) as caught:
        read_value(root[1], parse_date)
    assert caught.value.code is ErrorCode.SCHEMA_INVALID
    assert issubclass(ValueOutOfRange, XsdValueError)
