"""`silta route`: which party receives a message type for each municipality."""

from __future__ import annotations

from collections.abc import Sequence

from broker.domain.catalogue import CATALOGUE, Direction
from broker.domain.parties import KELA
from broker.domain.routing import MunicipalityTable, RoutingError


def route_lines(table: MunicipalityTable, message_type: str, codes: Sequence[str]) -> tuple[list[str], bool]:
    """One `code<TAB>recipient` or `code<TAB>error: reason` line per code, and whether any failed."""
    entry = CATALOGUE.get(message_type)
    if entry is None:
        known = ", ".join(sorted(CATALOGUE))
        return [f"{code}\terror: unknown message type {message_type} (known: {known})" for code in codes], True
    lines, failed = [], False
    for code in codes:
        try:
            lines.append(f"{code}\t{_recipient(table, entry.direction, code)}")
        except RoutingError as error:
            lines.append(f"{code}\terror: {error.reason}")
            failed = True
    return lines, failed


def _recipient(table: MunicipalityTable, direction: Direction, code: str) -> str:
    """Kela's messages go by the municipality's table row; organisers' messages all go to Kela."""
    recipient = table.recipient(code, direction.recipient_kind)
    return KELA if direction is Direction.ORGANISER_TO_KELA else recipient
