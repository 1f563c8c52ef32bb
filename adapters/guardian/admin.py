"""The mandate registry's admin route: load or update mandates from the guardianship register.

`POST /admin/v1/guardian-mandates` with `{"mandates": [...]}` (the same fields
as `silta guardians import`). Every row is checked first; one bad row refuses
the whole request, naming each bad row, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from adapters.access import AccessChecked
from adapters.http import Services, Unit, problem_responses
from adapters.parameters import MANDATE_ROW_SCHEMA
from broker.services.mandate_registry import checked_rows

router = APIRouter(prefix="/admin/v1", tags=["admin"], route_class=AccessChecked)


class MandateImport(BaseModel):
    """Mandates as the guardianship register states them."""

    mandates: list[dict[str, Any]] = Field(json_schema_extra={"items": MANDATE_ROW_SCHEMA})


@router.post("/guardian-mandates", responses=problem_responses(401, 403, 422))
async def import_mandates(body: MandateImport, services: Services, uow: Unit) -> dict[str, int]:
    """Create or update mandates; all rows or none."""
    result = await services.mandates.store(uow, checked_rows(body.mandates))
    await uow.commit()
    return {"created": result.created, "updated": result.updated}
