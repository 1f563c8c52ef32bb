"""The mandate registry's admin route: load or update mandates from the guardianship register.

`POST /admin/v1/guardian-mandates` with `{"mandates": [...]}` (the same fields
as `silta guardians import`). Every row is checked first; one bad row refuses
the whole request, naming each bad row, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from adapters.http import problem_responses, services_of
from adapters.parameters import MANDATE_ROW_SCHEMA
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.mandates import mandate_row
from broker.store.mandates import upsert_mandates

router = APIRouter(prefix="/admin/v1", tags=["admin"])


class MandateImport(BaseModel):
    """Mandates as the guardianship register states them."""

    mandates: list[dict[str, Any]] = Field(json_schema_extra={"items": MANDATE_ROW_SCHEMA})


@router.post("/guardian-mandates", responses=problem_responses(401, 403, 422))
async def import_mandates(body: MandateImport, request: Request) -> dict[str, int]:
    """Create or update mandates; all rows or none."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    if caller.client_id not in services.settings.admin_clients:
        raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, "only an admin client may change the mandate registry")
    rows, errors = [], []
    for index, raw in enumerate(body.mandates):
        try:
            rows.append(mandate_row(raw))
        except ValueError as error:
            errors.append(ErrorItem(f"/mandates/{index}", str(error)))
    if errors:
        raise Rejection(ErrorCode.MANDATE_IMPORT_INVALID, "no mandate was stored: fix the rows named", errors)
    async with services.sessions() as session, session.begin():
        created, updated = await upsert_mandates(session, rows, services.pipeline.pseudonyms, dt.datetime.now(dt.UTC))
    return {"created": created, "updated": updated}
