"""Hypothesis strategies for the text of XSD simple types, at their edges, from xmlschema's type components.

Each strategy draws lexical forms the type allows, favouring the edges: minimum
and maximum lengths, bounds and many digits for numbers, `24:00:00`, long
fractions, every kind of time zone and years Python cannot hold for dates, and
XML whitespace around the types that collapse it. xmlschema's own check filters
what the generator cannot know (a pattern on top of a dateTime, say).

libxml2 (the hot path) refuses whitespace around xs:date and leading whitespace
around xs:dateTime, although XSD collapses it: so dates are drawn without it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.identity_code import CENTURY_SIGNS, make_identity_code

XSD = "{http://www.w3.org/2001/XMLSchema}"
IDENTITY_CODE_TYPE = f"{{{ENVELOPE_NAMESPACE}}}PersonalIdentityCode"
INTEGER_TYPES = {"integer", "long", "int", "short", "positiveInteger", "nonNegativeInteger"}
_MAX_UNBOUNDED = 10**30
_PADDING = st.sampled_from(["", "", "", " ", "\n  ", "\t", " \r\n "])
XML_CHARACTERS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
) | st.sampled_from("\t\n ")  # XML 1.0's Char production, less the C0/C1 controls
# ruff: noqa: ANN401  xmlschema's components are untyped


def simple_text(xsd_type: Any) -> st.SearchStrategy[str]:
    """Text valid for a simple type (xmlschema's `XsdSimpleType`), drawn at its edges."""
    if xsd_type.name == IDENTITY_CODE_TYPE:
        return identity_codes()
    if xsd_type.enumeration:
        drawn: st.SearchStrategy[str] = st.sampled_from([str(value) for value in xsd_type.enumeration])
    else:
        drawn = _by_builtin(xsd_type, _builtin(xsd_type))
    return drawn.filter(xsd_type.text_is_valid)


def identity_codes() -> st.SearchStrategy[str]:
    """Valid fictitious identity codes: individual numbers 900-999, any century sign of the birth year."""
    births = st.dates(dt.date(1850, 1, 1), dt.date(2025, 12, 31))
    return st.tuples(births, st.integers(900, 999), st.randoms(use_true_random=False)).map(
        lambda t: make_identity_code(
            t[0], t[1], t[2].choice([s for s, c in CENTURY_SIGNS.items() if c == t[0].year // 100 * 100])
        )
    )


def _builtin(xsd_type: Any) -> str:
    """The local name of the nearest XSD built-in type the type derives from."""
    while not (xsd_type.name or "").startswith(XSD):
        xsd_type = xsd_type.base_type
    return str(xsd_type.name[len(XSD) :])


def _by_builtin(xsd_type: Any, builtin: str) -> st.SearchStrategy[str]:
    if builtin == "string":
        return _strings(xsd_type)
    if builtin == "boolean":
        return st.tuples(_PADDING, st.sampled_from(["true", "false", "1", "0"]), _PADDING).map("".join)
    if builtin == "decimal":
        return decimals(xsd_type)
    if builtin in INTEGER_TYPES:
        return integers(xsd_type)
    if builtin == "date":
        return st.tuples(date_texts(), zones()).map("".join)
    if builtin == "dateTime":
        return datetime_texts()
    raise NotImplementedError(f"no strategy for xs:{builtin}: add one")


def _strings(xsd_type: Any) -> st.SearchStrategy[str]:
    """Strings by the type's own patterns (any of them), else of every length the facets allow."""
    patterns = _nearest_patterns(xsd_type)
    if patterns:
        return st.one_of(*[st.from_regex(p, fullmatch=True, alphabet=XML_CHARACTERS) for p in patterns])
    low = xsd_type.min_length or 0
    high = xsd_type.max_length if xsd_type.max_length is not None else 200
    short = st.text(XML_CHARACTERS, min_size=low, max_size=min(high, low + 20))
    return short | st.sampled_from([low, high]).flatmap(_exactly)


def _exactly(length: int) -> st.SearchStrategy[str]:
    """A string of exactly `length` characters, cheaply: a short drawn piece repeated."""
    if length == 0:
        return st.just("")
    return st.text(XML_CHARACTERS, min_size=1, max_size=8).map(lambda piece: (piece * length)[:length])


def _nearest_patterns(xsd_type: Any) -> list[str]:
    while xsd_type is not None and not (xsd_type.name or "").startswith(XSD):
        if xsd_type.patterns is not None:
            return list(xsd_type.patterns.regexps)
        xsd_type = xsd_type.base_type
    return []


def decimals(xsd_type: Any) -> st.SearchStrategy[str]:
    """xs:decimal within the bounds and fraction digits, written every way XSD allows."""
    low = Decimal(xsd_type.min_value if xsd_type.min_value is not None else -_MAX_UNBOUNDED)
    high = Decimal(xsd_type.max_value if xsd_type.max_value is not None else _MAX_UNBOUNDED)
    facet = xsd_type.get_facet(f"{XSD}fractionDigits")
    places = facet.value if facet is not None else 20
    values = st.integers(0, places).flatmap(
        lambda p: st.decimals(low, high, places=p, allow_nan=False, allow_infinity=False)
    )
    return st.tuples(_PADDING, values | st.sampled_from([low, high]), st.integers(0, 5), _PADDING).map(
        lambda t: t[0] + _decimal_text(t[1], t[2]) + t[3]
    )


def _decimal_text(value: Decimal, style: int) -> str:
    """One of the lexical forms of a decimal: plain, +sign, leading zeros, many trailing zeros, `.5`, `5.`."""
    text = format(value, "f")
    if style == 1 and not text.startswith("-"):
        return "+" + text
    if style == 2:
        return text.replace("-", "-000") if text.startswith("-") else "000" + text
    if style == 3:
        return text + ("0" * 30 if "." in text else "." + "0" * 30)
    if style == 4 and text.startswith("0."):
        return text[1:]
    if style == 5 and "." not in text:
        return text + "."
    return text


def integers(xsd_type: Any) -> st.SearchStrategy[str]:
    """xs:integer and its restrictions within their bounds, with sign, leading zeros and whitespace."""
    low = int(xsd_type.min_value) if xsd_type.min_value is not None else -_MAX_UNBOUNDED
    high = int(xsd_type.max_value) if xsd_type.max_value is not None else _MAX_UNBOUNDED
    values = st.integers(low, high) | st.sampled_from([low, high])
    prefixes = st.sampled_from(["", "", "+", "0000"])
    return st.tuples(_PADDING, prefixes, values, _PADDING).map(
        lambda t: t[0] + (str(t[2]) if t[2] < 0 else t[1] + str(t[2])) + t[3]
    )


def zones() -> st.SearchStrategy[str]:
    """No zone, Z, ±00:00 and offsets up to ±14:00."""
    offsets = st.tuples(st.sampled_from("+-"), st.integers(0, 13), st.sampled_from([0, 15, 30, 45, 59])).map(
        lambda t: f"{t[0]}{t[1]:02d}:{t[2]:02d}"
    )
    return st.sampled_from(["", "Z", "+00:00", "-00:00", "+14:00", "-14:00"]) | offsets


def date_texts() -> st.SearchStrategy[str]:
    """Calendar dates, mostly near today, with the edges: 0001, 9999, leap days and years Python cannot hold."""
    near = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
    edges = st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 2, 29), dt.date(2000, 2, 29)])
    beyond = st.sampled_from(["-0001-01-01", "10000-01-01", "-10000-12-31", "123456-06-15"])
    return (near | edges | st.dates()).map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}") | beyond


def datetime_texts() -> st.SearchStrategy[str]:
    """xs:dateTime texts with 24:00:00, fractions of any length and every kind of zone (no leading whitespace)."""
    times = st.times().map(lambda t: t.strftime("%H:%M:%S")) | st.sampled_from(["24:00:00", "23:59:59", "00:00:00"])
    fractions = st.just("") | st.text("0123456789", min_size=1, max_size=15).map(".{}".format)
    trailing = st.sampled_from(["", "", " "])
    return st.tuples(date_texts(), times, fractions, zones(), trailing).map(
        lambda t: f"{t[0]}T{t[1]}{t[2] if t[1] != '24:00:00' else t[2].translate(_ZEROS)}{t[3]}{t[4]}"
    )


_ZEROS = str.maketrans("123456789", "000000000")
