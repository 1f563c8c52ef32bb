"""Guardian mandates as imported from the guardianship register: parsed and checked row by row.

A mandate lets a guardian see a principal's data only while it is valid on
that day and its scope covers financial matters (442/1999 29 §). An import is
all or nothing: one bad row is reported with its line and nothing is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from broker.domain.identity_code import identity_code_problem, is_valid_identity_code

SCOPES = frozenset({"financial", "financial-and-personal", "personal"})
FINANCIAL_SCOPES = frozenset({"financial", "financial-and-personal"})
FIELDS = ("guardian_id", "principal_identity_code", "scope", "valid_from", "valid_to", "source_reference")
_GUARDIAN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_SOURCE = 100


@dataclass(frozen=True)
class MandateRow:
    """One mandate as the register states it. `principal_identity_code` is never logged or shown."""

    guardian_id: str
    principal_identity_code: str
    scope: str
    valid_from: dt.date
    valid_to: dt.date | None
    source_reference: str

    def __repr__(self) -> str:
        return f"MandateRow(guardian_id={self.guardian_id!r}, scope={self.scope!r}, valid_from={self.valid_from})"


class MandateImportError(Exception):
    """Rows that failed; each problem names its line (or JSON item) and the rule broken."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def covers_financial_matters(scope: str, valid_from: dt.date, valid_to: dt.date | None, on: dt.date) -> bool:
    """A mandate allows the view on `on` only if valid that day and its scope covers financial matters."""
    return scope in FINANCIAL_SCOPES and valid_from <= on and (valid_to is None or on <= valid_to)


def parse_mandates(text: str, kind: str) -> list[MandateRow]:
    """Rows of a CSV (header with FIELDS) or JSON (a list of objects) file, or `MandateImportError`."""
    if kind == "json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as error:
            raise MandateImportError([f"not valid JSON: {error.msg} at line {error.lineno}"]) from None
        if not isinstance(items, list):
            raise MandateImportError(["a JSON import is a list of mandate objects"])
        numbered = [(f"item {n}", item) for n, item in enumerate(items, start=1)]
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [name for name in FIELDS if name not in (reader.fieldnames or [])]
        if missing:
            raise MandateImportError([f"line 1: the header lacks {', '.join(missing)}"])
        numbered = [(f"line {reader.line_num}", row) for row in reader]
    rows, problems = [], []
    for where, raw in numbered:
        try:
            rows.append(mandate_row(raw))
        except ValueError as error:
            problems.append(f"{where}: {error}")
    if problems:
        raise MandateImportError(problems)
    return rows


def mandate_row(raw: Any) -> MandateRow:  # noqa: ANN401  an untrusted row from CSV or JSON
    """One row checked, or `ValueError` naming the field and rule broken (never the identity code)."""
    if not isinstance(raw, dict):
        raise ValueError("a mandate is an object with " + ", ".join(FIELDS))
    value = {name: str(raw.get(name) or "").strip() for name in FIELDS}
    if not _GUARDIAN_ID.match(value["guardian_id"]) or is_valid_identity_code(value["guardian_id"]):
        raise ValueError("guardian_id must be an opaque id (letters, digits, . _ -), never an identity code")
    problem = identity_code_problem(value["principal_identity_code"])
    if problem is not None:
        raise ValueError(f"principal_identity_code: {problem.reason}")
    if value["scope"] not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(sorted(SCOPES))}")
    valid_from = _date(value["valid_from"], "valid_from")
    valid_to = _date(value["valid_to"], "valid_to") if value["valid_to"] else None
    if valid_to is not None and valid_to < valid_from:
        raise ValueError("valid_to is before valid_from")
    if not 0 < len(value["source_reference"]) <= _MAX_SOURCE:
        raise ValueError(f"source_reference is required (at most {_MAX_SOURCE} characters)")
    return MandateRow(
        value["guardian_id"],
        value["principal_identity_code"],
        value["scope"],
        valid_from,
        valid_to,
        value["source_reference"],
    )


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD") from None
