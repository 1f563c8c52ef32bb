"""The guardian mandate registry: rows from the guardianship register, checked all before any is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from broker.audit.pseudonym import Pseudonymiser
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.mandates import MandateRow, mandate_row
from broker.services.unit_of_work import UnitOfWork
from broker.store.mandates import upsert_mandates


@dataclass(frozen=True)
class ImportResult:
    """How many mandates an import created and updated."""

    created: int
    updated: int


def checked_rows(raw_rows: Sequence[dict[str, Any]]) -> list[MandateRow]:
    """Every row checked, or one `Rejection` naming each bad row by its index."""
    rows, errors = [], []
    for index, raw in enumerate(raw_rows):
        try:
            rows.append(mandate_row(raw))
        except ValueError as error:
            errors.append(ErrorItem(f"/mandates/{index}", str(error)))
    if errors:
        raise Rejection(ErrorCode.MANDATE_IMPORT_INVALID, "no mandate was stored: fix the rows named", errors)
    return rows


class MandateRegistry:
    """The use case "load mandates from the register"."""

    def __init__(self, pseudonyms: Pseudonymiser) -> None:
        self._pseudonyms = pseudonyms

    async def store(self, uow: UnitOfWork, rows: Sequence[MandateRow]) -> ImportResult:
        """Create or update checked rows in the unit of work."""
        created, updated = await upsert_mandates(uow.session, list(rows), self._pseudonyms, uow.now)
        return ImportResult(created, updated)
