"""The role table is documented where readers look: docs/access.md and each OpenAPI operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.access import ROUTE_ROLES
from adapters.access_docs import access_markdown
from broker.settings import PROJECT_ROOT, Settings
from entrypoints.api import create_app
from entrypoints.cli import main


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The app's OpenAPI document; building it connects to nothing."""
    return create_app(Settings(log_json=False)).openapi()


def test_docs_access_md_is_the_current_export(document: dict[str, Any]) -> None:
    """Reviewers read docs/access.md; it must match the role table and the routes (run `silta access export`)."""
    assert (PROJECT_ROOT / "docs" / "access.md").read_text() == access_markdown(document)


def test_each_operation_states_its_roles(document: dict[str, Any]) -> None:
    """`x-silta-roles` and the description name exactly the table's roles; public routes name none."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            roles = ROUTE_ROLES.get((method.upper(), path))
            if roles is None:
                assert path.startswith(("/health/", "/.well-known/")), path
                assert "x-silta-roles" not in operation
                continue
            assert operation["x-silta-roles"] == sorted(roles), (method, path)
            assert all(f"`{role}`" in operation["description"] for role in roles), (method, path)


def test_the_data_subjects_question_is_for_kela_data_protection_alone(document: dict[str, Any]) -> None:
    """703/2023 11 §: the docs say who answers; the table and the OpenAPI document admit that role only."""
    operation = document["paths"]["/kela/v1/disclosure-queries"]["post"]
    assert operation["x-silta-roles"] == ["kela-data-protection"]
    assert "**Kela's\ndata-protection function** answers it" in access_markdown(document)


def test_access_export_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`silta access export --output FILE` writes what the test above compares."""
    target = tmp_path / "access.md"
    assert main(["access", "export", "--output", str(target)]) == 0
    assert target.read_text() == (PROJECT_ROOT / "docs" / "access.md").read_text()
    assert capsys.readouterr().out.strip() == f"wrote {target}"
