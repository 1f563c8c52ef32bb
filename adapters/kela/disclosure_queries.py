"""The data subject's question (703/2023 11 §): who used or received my data, when, why, on what basis.

The identity code travels in the request body, never in the URL. The answer
comes from the disclosure and usage logs by the code's keyed pseudonym, and
the question itself is written to the usage log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from adapters.http import problem_responses, services_of
from adapters.parameters import IDENTITY_CODE_PATTERN
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.identity_code import identity_code_problem
from broker.store.audit_log import append_entries, entries_about

router = APIRouter(prefix="/kela/v1", tags=["kela", "audit"])
_PURPOSE = "answer the data subject's request (703/2023 11 §)"


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
async def disclosure_query(query: DisclosureQuery, request: Request) -> DisclosureAnswer:
    """List who received or used a person's data; the query is itself logged as a usage."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    problem = identity_code_problem(query.personal_identity_code)
    if problem is not None:
        raise Rejection(
            ErrorCode.IDENTITY_CODE_INVALID,
            "the personal identity code is not valid",
            [ErrorItem("/personal_identity_code", problem.reason)],
        )
    subject = services.pipeline.pseudonyms.of(query.personal_identity_code)
    async with services.sessions() as session, session.begin():
        found = await entries_about(session, subject)
        usage = {
            "user": caller.client_id,
            "party": caller.party,
            "purpose": _PURPOSE,
            "data": ["disclosure log", "usage log"],
        }
        await append_entries(session, "usage", [(subject, usage)], dt.datetime.now(dt.UTC))
    entries = [LogEntry(log=e.chain, recorded_at=e.recorded_at, details=e.payload) for e in found]
    return DisclosureAnswer(
        disclosures=[e for e in entries if e.log == "disclosure"], usages=[e for e in entries if e.log == "usage"]
    )
