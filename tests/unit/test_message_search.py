"""The tracking search's pure rules: which times it takes, its cursors, its limits and its filters' checks."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from broker.domain.errors import ErrorCode, Rejection
from broker.domain.message_search import PageRequest, Position, SearchFilters, decode_cursor, encode_cursor, parse_time

POSITION = Position(dt.datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=dt.UTC), "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f")


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-03T10:00:00Z", dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)),
        ("2026-12-03t12:00:00.5+02:00", dt.datetime(2026, 12, 3, 10, 0, 0, 500000, tzinfo=dt.UTC)),
        ("2026-12-03T10:00z", dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)),
    ],
)
def test_iso_times_with_a_zone_are_read_in_utc(text: str, utc: dt.datetime) -> None:
    """An ISO 8601 date and time with `Z` or an offset (either case of T and Z) is that moment in UTC."""
    assert parse_time(text, "since") == utc


@pytest.mark.parametrize(
    "text",
    [
        "1733220000",
        "1733220000.5",
        "2026-12-03",
        "2026-12-03T10:00:00",
        "2026-02-30T10:00:00Z",
        "2026-12-03T25:00:00Z",
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:00:00+05:00",
        "２０２６-12-03T10:00:00Z",
        "",
    ],
)
def test_anything_else_is_time_invalid(text: str) -> None:
    """Bare numbers, dates alone, times without a zone, impossible or unrepresentable times: `time-invalid`."""
    with pytest.raises(Rejection) as refused:
        parse_time(text, "until")
    assert refused.value.code is ErrorCode.TIME_INVALID
    assert refused.value.errors[0].path == "/query/until"


def test_a_cursor_names_the_position_it_was_made_from() -> None:
    """`decode_cursor(encode_cursor(p)) == p`, and the cursor is URL-safe text."""
    cursor = encode_cursor(POSITION)
    assert decode_cursor(cursor) == POSITION
    assert cursor.replace("-", "").replace("_", "").isalnum()


def _encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        "x" * 201,
        _encoded(["2026-12-03T10:00:00", POSITION.message_id]),
        _encoded(["2026-12-03T10:00:00+00:00", "not-a-uuid"]),
        _encoded(["9999-12-31T23:00:00-05:00", POSITION.message_id]),
        _encoded({"at": "2026-12-03T10:00:00+00:00"}),
        _encoded([1, 2]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_silta_did_not_give_out_is_refused(cursor: str) -> None:
    """Anything but a cursor of `encode_cursor` is `search-cursor-invalid`, never an exception of its own."""
    with pytest.raises(Rejection) as refused:
        decode_cursor(cursor)
    assert refused.value.code is ErrorCode.SEARCH_CURSOR_INVALID


@pytest.mark.parametrize("limit", [0, 201])
def test_a_page_holds_one_to_two_hundred(limit: int) -> None:
    """A limit outside 1..200 is `request-invalid`; 1 and 200 are fine."""
    with pytest.raises(Rejection) as refused:
        PageRequest(limit)
    assert refused.value.code is ErrorCode.REQUEST_INVALID
    assert (PageRequest(1).limit, PageRequest(200).limit) == (1, 200)


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        (SearchFilters(message_type="love-letter"), ErrorCode.UNKNOWN_MESSAGE_TYPE),
        (SearchFilters(case_id="010594Y9032"), ErrorCode.CASE_ID_IS_IDENTITY_CODE),
        (SearchFilters(since=POSITION.accepted_at, until=POSITION.accepted_at), ErrorCode.TIME_RANGE_INVALID),
    ],
)
def test_filters_that_cannot_be_meant_are_refused(filters: SearchFilters, code: ErrorCode) -> None:
    """An unknown type, an identity code as the case id, an empty or backward range: each its own code."""
    with pytest.raises(Rejection) as refused:
        filters.check()
    assert refused.value.code is code


def test_good_filters_pass() -> None:
    """Known type, a case reference and a forward range are accepted as they are."""
    since = POSITION.accepted_at
    SearchFilters("KELA-1", "hva-08", "receipt", since, since + dt.timedelta(seconds=1)).check()
