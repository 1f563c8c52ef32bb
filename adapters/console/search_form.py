"""The console's tracking search form: its fields, read into the search the REST routes run too.

An empty field filters nothing. Times are typed as ISO 8601 with a zone, as on
REST; a bad one comes back to the form as its message, not as a problem document.
"""

from __future__ import annotations

from broker.domain.errors import ErrorCode, Rejection
from broker.domain.lifecycle import Status
from broker.domain.message_search import PageRequest, SearchFilters, decode_cursor, parse_time

SEARCH_FIELDS = ("case_id", "party", "message_type", "status", "since", "until", "cursor")


def console_search(form: dict[str, str]) -> tuple[SearchFilters, PageRequest]:
    """The filters and page the form asks for; `Rejection` for a time, status or cursor that is not one."""
    filters = SearchFilters(
        case_id=form.get("case_id") or None,
        party=form.get("party") or None,
        message_type=form.get("message_type") or None,
        since=parse_time(form["since"], "since") if form.get("since") else None,
        until=parse_time(form["until"], "until") if form.get("until") else None,
        status=_status(form.get("status", "")),
    )
    cursor = form.get("cursor")
    return filters, PageRequest(after=decode_cursor(cursor) if cursor else None)


def _status(value: str) -> Status | None:
    if not value:
        return None
    try:
        return Status(value)
    except ValueError:
        raise Rejection(ErrorCode.REQUEST_INVALID, f"no status {value[:32]!r}") from None
