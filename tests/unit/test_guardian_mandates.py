"""Guardian mandates: row-by-row checks of an import, and when a mandate allows a view (442/1999 29 §)."""

from __future__ import annotations

import datetime as dt

import pytest

from broker.domain.mandates import MandateImportError, covers_financial_matters, parse_mandates

HEADER = "guardian_id,principal_identity_code,scope,valid_from,valid_to,source_reference\n"
GOOD = "edv-0001,010594Y9032,financial,2024-01-01,,DVV-EDV-2024-0001\n"


def test_a_csv_import_gives_one_row_per_line_and_never_shows_the_identity_code() -> None:
    """Good rows parse; the row's repr leaves the principal's identity code out."""
    [row] = parse_mandates(HEADER + GOOD, "csv")
    assert (row.guardian_id, row.scope, row.valid_from, row.valid_to) == (
        "edv-0001",
        "financial",
        dt.date(2024, 1, 1),
        None,
    )
    assert "010594Y9032" not in repr(row)


def test_every_bad_row_is_named_by_its_line_and_nothing_is_returned() -> None:
    """A bad check character, an unknown scope and reversed dates are each reported with the line."""
    text = (
        HEADER
        + GOOD
        + "edv-0001,010594Y903A,financial,2024-01-01,,DVV-1\n"
        + "edv-0001,010594Y9032,everything,2024-01-01,,DVV-2\n"
        + "edv-0001,010594Y9032,financial,2024-05-01,2024-01-01,DVV-3\n"
    )
    with pytest.raises(MandateImportError) as caught:
        parse_mandates(text, "csv")
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5"]
    assert "check character" in problems[0]
    assert "scope" in problems[1]
    assert "valid_to is before valid_from" in problems[2]
    assert all("010594Y903" not in p for p in problems)


def test_a_guardian_id_that_is_an_identity_code_is_refused() -> None:
    """Guardian ids are opaque: an identity code there would leak into logs."""
    with pytest.raises(MandateImportError, match="never an identity code"):
        parse_mandates(HEADER + "010594Y9032,010594Y9032,financial,2024-01-01,,DVV-1\n", "csv")


def test_a_json_import_names_the_bad_item() -> None:
    """JSON imports are a list of objects; a bad one is named by its position."""
    text = '[{"guardian_id": "edv-1", "principal_identity_code": "010594Y9032", "scope": "financial",'
    text += ' "valid_from": "2024-01-01", "source_reference": "DVV-1"}, {"guardian_id": "edv-2"}]'
    with pytest.raises(MandateImportError) as caught:
        parse_mandates(text, "json")
    assert [p.split(":")[0] for p in caught.value.problems] == ["item 2"]


def test_a_header_without_the_fields_is_refused() -> None:
    """A CSV without the expected header names what it lacks."""
    with pytest.raises(MandateImportError, match="line 1: the header lacks"):
        parse_mandates("guardian,principal\nx,y\n", "csv")


@pytest.mark.parametrize(
    ("scope", "valid_from", "valid_to", "allowed"),
    [
        ("financial", "2024-01-01", None, True),
        ("financial-and-personal", "2024-01-01", "2025-06-30", True),
        ("personal", "2024-01-01", None, False),
        ("financial", "2024-01-01", "2025-05-31", False),
        ("financial", "2025-07-01", None, False),
    ],
    ids=["financial", "both-until-june", "personal-only", "ended", "future"],
)
def test_a_view_is_allowed_only_while_valid_and_financial(
    scope: str, valid_from: str, valid_to: str | None, allowed: bool
) -> None:
    """On 2025-06-15: ended, future and out-of-scope mandates deny."""
    end = dt.date.fromisoformat(valid_to) if valid_to else None
    on = dt.date(2025, 6, 15)
    assert covers_financial_matters(scope, dt.date.fromisoformat(valid_from), end, on) is allowed
