"""What a tracking search asks for: its filters, its page, and the cursor that continues it.

Results come in one stable order, by acceptance time and then message id; a
page continues after the position its cursor names (keyset paging), so a
message accepted while a client pages through never shifts what it sees. The
cursor is opaque to clients: base64url of the last position of the page before.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass

from broker.domain.catalogue import CATALOGUE
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.identity_code import is_valid_identity_code
from broker.domain.lifecycle import Status

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 200
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)


@dataclass(frozen=True)
class SearchFilters:
    """Which messages: each filter given narrows the search; `since` is inclusive, `until` exclusive."""

    case_id: str | None = None
    party: str | None = None
    """The other party: the message's sender or recipient (for an operator, either)."""
    message_type: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    status: Status | None = None

    def check(self) -> None:
        """Refuse filters that could match nothing by mistake: an unknown type, an identity code, a range backwards."""
        if self.message_type is not None and self.message_type not in CATALOGUE:
            raise Rejection(ErrorCode.UNKNOWN_MESSAGE_TYPE, f"no message type {self.message_type[:64]!r}")
        if self.case_id is not None and is_valid_identity_code(self.case_id):
            raise Rejection(
                ErrorCode.CASE_ID_IS_IDENTITY_CODE,
                "a case id is never a personal identity code; search by the case reference",
                [ErrorItem("/query/case_id", "is an identity code")],
            )
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise Rejection(
                ErrorCode.TIME_RANGE_INVALID,
                "`until` must be later than `since`",
                [ErrorItem("/query/until", "not after since")],
            )


@dataclass(frozen=True, order=True)
class Position:
    """A message's place in the search order: acceptance time (UTC), then message id."""

    accepted_at: dt.datetime
    message_id: str


@dataclass(frozen=True)
class PageRequest:
    """How much to return, and after which position (none: from the start)."""

    limit: int = DEFAULT_LIMIT
    after: Position | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise Rejection(
                ErrorCode.REQUEST_INVALID,
                f"the limit is 1 to {MAX_LIMIT}",
                [ErrorItem("/query/limit", f"not in 1..{MAX_LIMIT}")],
            )


def parse_time(text: str, name: str) -> dt.datetime:
    """An ISO 8601 date and time with its time zone (`2026-12-03T10:00:00Z`), in UTC; `time-invalid` otherwise.

    A bare number, a date alone or a time without a zone is refused: each would mean a different moment
    to different clients.
    """
    if _ISO_TIME.fullmatch(text) is not None:
        try:
            return dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(dt.UTC)
        except (ValueError, OverflowError):  # no such day or hour; or out of range in UTC (year 0, 10000)
            pass
    raise Rejection(
        ErrorCode.TIME_INVALID,
        f"`{name}` must be an ISO 8601 date and time with a time zone, such as 2026-12-03T10:00:00Z",
        [ErrorItem(f"/query/{name}", "not an ISO 8601 date and time with a time zone")],
    )


def encode_cursor(position: Position) -> str:
    """The opaque cursor that continues a search after `position`."""
    raw = json.dumps([position.accepted_at.astimezone(dt.UTC).isoformat(), position.message_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor from `encode_cursor` names; `search-cursor-invalid` for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, message_id = json.loads(raw)
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(message_id, str) or _UUID.fullmatch(message_id) is None:
            raise ValueError("not a position")
        position = Position(moment.astimezone(dt.UTC), message_id)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise Rejection(
            ErrorCode.SEARCH_CURSOR_INVALID,
            "the cursor is not one Silta gave out",
            [ErrorItem("/query/cursor", "not a cursor of this search")],
        ) from None
    return position
