"""`silta guardians import FILE`: read a register extract (CSV or JSON); every row is checked before any is stored."""

from __future__ import annotations

from pathlib import Path

from broker.domain.mandates import MandateRow, parse_mandates


def read_mandates(path: Path) -> list[MandateRow]:
    """Every row of the file checked, or `MandateImportError` naming each bad row's line."""
    kind = "json" if path.suffix.lower() == ".json" else "csv"
    return parse_mandates(path.read_text(encoding="utf-8"), kind)
