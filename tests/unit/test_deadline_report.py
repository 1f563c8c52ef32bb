"""docs/deadlines.md is the catalogue's deadlines, as generated: the document cannot drift from the code."""

from __future__ import annotations

from broker.deadline_report import deadlines_markdown
from broker.domain.catalogue import CATALOGUE
from broker.settings import PROJECT_ROOT


def test_docs_deadlines_md_is_the_current_export() -> None:
    """Reviewers read docs/deadlines.md; it must match the catalogue (run `python -m broker.deadline_report`)."""
    assert (PROJECT_ROOT / "docs" / "deadlines.md").read_text() == deadlines_markdown()


def test_the_table_has_one_row_per_type_naming_its_deadline_basis() -> None:
    """Every catalogue type has a row, and a type with a deadline shows its basis and response time."""
    table = deadlines_markdown()
    for name, message_type in CATALOGUE.items():
        [row] = [line for line in table.splitlines() if line.startswith(f"| {name} |")]
        if message_type.deadline is not None:
            assert message_type.deadline.basis in row
    assert "3 working days after delivery" in table
    assert "the request's DueDate; 7 working days if it has none" in table
