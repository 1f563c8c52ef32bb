"""The data subject's question (703/2023 11 §): who used or received my data, when, why, on what basis.

The identity code travels in the request body, never in the URL. The answer
comes from the disclosure and usage logs by the code's keyed pseudonym, and
the question itself is written to the usage log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from adapters.access import AccessChecked
from adapters.http import Authenticated, Services, Unit, problem_responses
from adapters.parameters import IDENTITY_CODE_PATTERN
from broker.audit.chain import ChainEntry

router = APIRouter(prefix="/kela/v1", tags=["kela", "audit"], route_class=AccessChecked)


class DisclosureQuery(BaseModel):
    """Whose disclosures and usages to list."""

    personal_identity_code: str = Field(repr=False, json_schema_extra={"pattern": IDENTITY_CODE_PATTERN})


class LogEntry(BaseModel):
    """One disclosure or usage of the person's data."""

    log: str
    recorded_at: str
    details: dict[str, Any]


class DisclosureAnswer(BaseModel):
    """Every disclosure and usage of one person's data that Silta logged."""

    disclosures: list[LogEntry]
    usages: list[LogEntry]


@router.post(
    "/disclosure-queries",
    response_model=DisclosureAnswer,
    responses=problem_responses(401, 403, 422),
)
async def disclosure_query(
    query: DisclosureQuery, services: Services, caller: Authenticated, uow: Unit
) -> DisclosureAnswer:
    """List who received or used a person's data; the query is itself logged as a usage."""
    answer = await services.data_subjects.answer(uow, query.personal_identity_code, caller.client_id, caller.party)
    await uow.commit()
    return DisclosureAnswer(disclosures=_entries(answer.disclosures), usages=_entries(answer.usages))


def _entries(entries: tuple[ChainEntry, ...]) -> list[LogEntry]:
    return [LogEntry(log=e.chain, recorded_at=e.recorded_at, details=e.payload) for e in entries]
