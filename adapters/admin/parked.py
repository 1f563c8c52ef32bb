"""Dead letters over REST: list, explain, replay and discard parked records; list kept REST rejections.

Operators and admins only (`ROUTE_ROLES`). What a record failed with is
shown with identity codes masked; a record's value is never shown (it is
sealed, and it is content). Each replay runs in units of work of its own
(`ReplayBatch`), one per record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, BeforeValidator, Field

from adapters.access import AccessChecked
from adapters.http import Authenticated, Services, Unit, problem_responses
from adapters.masking import mask_identity_codes
from adapters.tracking import TIME_SCHEMA
from broker.domain.clients import Role
from broker.domain.dead_letters import (
    PARTY_PATTERN,
    REASON_PATTERN,
    TOPIC_PATTERN,
    DeadLetterFilter,
    ParkedState,
    ReplayResult,
)
from broker.domain.message_search import parse_time
from broker.services.dead_letters import ParkedView, RestRejectionView

router = APIRouter(prefix="/admin/v1", tags=["admin"], route_class=AccessChecked)
_ERRORS = problem_responses(400, 401, 403, 404, 422)


def _iso_text(value: object) -> object:
    """Only ISO 8601 text is a time here: pydantic alone would read a bare number as seconds since 1970."""
    if value is not None and not isinstance(value, str):
        raise ValueError("a time is ISO 8601 text with a time zone, such as 2026-12-03T10:00:00Z")
    return value


BodyTime = Annotated[dt.datetime | None, BeforeValidator(_iso_text)]
ParkedSince = Annotated[str | None, TIME_SCHEMA, Query(description="Parked at or after this time (ISO 8601, zoned)")]
ParkedUntil = Annotated[str | None, TIME_SCHEMA, Query(description="Parked before this time (ISO 8601, zoned)")]


class FilterIn(BaseModel):
    """Which parked records: every field left out matches everything."""

    reason: str | None = Field(default=None, pattern=REASON_PATTERN, description="the error code they were parked with")
    topic: str | None = Field(default=None, pattern=TOPIC_PATTERN)
    sender: str | None = Field(
        default=None, pattern=PARTY_PATTERN, description="the organiser whose topic carried them"
    )
    since: BodyTime = None
    until: BodyTime = None


class DiscardIn(BaseModel):
    """Why the record is discarded: required, written to the usage log."""

    reason: str = Field(default="", max_length=1000)


class ReplayOut(BaseModel):
    """What a replay of one record came to."""

    record_id: int
    outcome: str
    message_id: str | None
    error_code: str | None


class ReplayCountsOut(BaseModel):
    """What a replay of every matching record came to."""

    delivered: int
    duplicate: int
    parked_again: int
    skipped: int


def listing_filter(  # noqa: PLR0917  FastAPI reads each query parameter from a parameter of its own
    reason: Annotated[str | None, Query(pattern=REASON_PATTERN)] = None,
    topic: Annotated[str | None, Query(pattern=TOPIC_PATTERN)] = None,
    sender: Annotated[str | None, Query(pattern=PARTY_PATTERN)] = None,
    since: ParkedSince = None,
    until: ParkedUntil = None,
    state: ParkedState = ParkedState.UNRESOLVED,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeadLetterFilter:
    """The listing's query parameters as a filter; paging by `after` (the last id of the page before)."""
    begins = None if since is None else parse_time(since, "since")
    ends = None if until is None else parse_time(until, "until")
    return DeadLetterFilter(reason, topic, sender, begins, ends, state, after, limit)


Filter = Annotated[DeadLetterFilter, Depends(listing_filter)]
RecordId = Annotated[int, Path(ge=1, le=2**62, description="A parked record's id")]


def parked_json(view: ParkedView) -> dict[str, object]:
    """A parked record as JSON, its error detail with identity codes masked."""
    shown = asdict(view)
    shown["error_detail"] = mask_identity_codes(view.error_detail, Role.OPERATOR)
    return shown


def _page(items: list[dict[str, object]], limit: int) -> dict[str, object]:
    last = items[-1]["id"] if len(items) == limit else None
    return {"items": items, "next_after": last}


@router.get("/parked", responses=_ERRORS)
async def list_parked(wanted: Filter, services: Services, uow: Unit) -> dict[str, object]:
    """Parked records by reason code, topic, sender and time (default: unresolved), oldest first, paged."""
    views = await services.dead_letters.listing(uow, wanted)
    return _page([parked_json(view) for view in views], wanted.limit)


@router.get("/parked/{record_id:int}", responses=_ERRORS)
async def show_parked(record_id: RecordId, services: Services, uow: Unit) -> dict[str, object]:
    """One parked record: where it came from, what it failed with, how often it was tried, what became of it."""
    return parked_json(await services.dead_letters.explain(uow, record_id))


@router.post("/parked/replay", responses=_ERRORS)
async def replay_matching(body: FilterIn, services: Services) -> ReplayCountsOut:
    """Replay every unresolved record the filter matches, one at a time; the counts of their outcomes."""
    wanted = DeadLetterFilter(body.reason, body.topic, body.sender, body.since, body.until)
    counts = await services.replays.replay_matching(wanted)
    return ReplayCountsOut(**asdict(counts))


@router.post("/parked/{record_id:int}/replay", responses=_ERRORS)
async def replay_parked(record_id: RecordId, services: Services) -> ReplayOut:
    """Replay one record through the pipeline again, with a new receipt; a record resolved already is skipped."""
    return _replay_out(await services.replays.replay_one(record_id))


@router.post("/parked/{record_id:int}/discard", responses=problem_responses(401, 403, 404, 409, 422))
async def discard_parked(
    record_id: RecordId, body: DiscardIn, caller: Authenticated, services: Services, uow: Unit
) -> dict[str, object]:
    """Discard one unresolved record with a reason (required); who and why go to the usage log."""
    view = await services.dead_letters.discard(uow, record_id, caller.client_id, caller.party, body.reason)
    await uow.commit()
    return parked_json(view)


@router.get("/rejections", responses=_ERRORS)
async def list_rejections(wanted: Filter, services: Services, uow: Unit) -> dict[str, object]:
    """Kept REST rejections by reason code, caller party (`sender`) and time: route template, code, body hash."""
    views: list[RestRejectionView] = await services.dead_letters.rejections(uow, wanted)
    return _page([asdict(view) for view in views], wanted.limit)


def _replay_out(result: ReplayResult) -> ReplayOut:
    return ReplayOut(
        record_id=result.record_id,
        outcome=str(result.outcome),
        message_id=result.message_id,
        error_code=result.error_code,
    )
