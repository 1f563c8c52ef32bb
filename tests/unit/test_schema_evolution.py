"""The evolution gate: a new schema version must accept the stored examples of the previous one, or say it breaks."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from lxml import etree

from broker.domain.catalogue import APPLICATION_TRANSFER, SchemaVersion
from broker.settings import PROJECT_ROOT
from broker.xml.evolution import check_evolution, samples_of
from entrypoints.cli import main

SCHEMAS = PROJECT_ROOT / "schemas"
EXAMPLES = SCHEMAS / "examples"
_XS = "http://www.w3.org/2001/XMLSchema"


@pytest.fixture
def broken_schemas(tmp_path: Path) -> Path:
    """A copy of the schemas whose application-transfer 2.0 makes PreferredLanguage required: a breaking change."""
    for xsd in SCHEMAS.glob("*.xsd"):
        shutil.copy(xsd, tmp_path)
    path = tmp_path / "application-transfer-2.xsd"
    document = etree.parse(str(path))
    [element] = document.iterfind(f".//{{{_XS}}}element[@name='PreferredLanguage']")
    del element.attrib["minOccurs"]
    document.write(str(path), xml_declaration=True, encoding="UTF-8")
    return tmp_path


def test_the_real_catalogue_passes_the_gate() -> None:
    """Application transfer 2.0 only adds an optional element: every 1.0 example is a valid 2.0 document."""
    report = check_evolution(SCHEMAS, EXAMPLES)
    assert report.ok, report.failures
    assert any(line.startswith("application-transfer 1.0 → 2.0: compatible") for line in report.checked)


def test_samples_are_picked_by_the_version_their_envelope_names() -> None:
    """The 1.0 and 2.0 examples of application-transfer are told apart by SchemaVersion, not by file name."""
    assert [p.name for p in samples_of(EXAMPLES, APPLICATION_TRANSFER, "1.0")] == ["application-transfer.xml"]
    assert [p.name for p in samples_of(EXAMPLES, APPLICATION_TRANSFER, "2.0")] == [
        "application-transfer--version-2.xml"
    ]


def test_a_breaking_schema_not_declared_breaking_fails_the_gate(broken_schemas: Path) -> None:
    """A required new element refuses the 1.0 example; the gate names the example and the missing element."""
    report = check_evolution(broken_schemas, EXAMPLES, [APPLICATION_TRANSFER])
    assert not report.ok
    [failure] = report.failures
    assert failure.startswith("application-transfer 1.0 → 2.0: application-transfer.xml is refused")
    assert "PreferredLanguage" in failure


def test_the_same_change_declared_breaking_passes(broken_schemas: Path) -> None:
    """Declaring 2.0 breaking in the catalogue makes the incompatibility a decision: the gate reports, not fails."""
    v1, v2 = APPLICATION_TRANSFER.versions
    declared = dataclasses.replace(APPLICATION_TRANSFER, versions=(v1, dataclasses.replace(v2, breaking=True)))
    report = check_evolution(broken_schemas, EXAMPLES, [declared])
    assert report.ok
    assert report.checked == ["application-transfer 1.0 → 2.0: breaking (declared), 1 of 1 example(s) refused"]


def test_a_version_without_a_stored_example_fails_the_gate(tmp_path: Path) -> None:
    """Every live version needs an example, or the version after it could not be checked."""
    for xsd in SCHEMAS.glob("*.xsd"):
        shutil.copy(xsd, tmp_path)
    shutil.copy(SCHEMAS / "application-transfer-2.xsd", tmp_path / "application-transfer-2.1.xsd")
    listed = dataclasses.replace(APPLICATION_TRANSFER, versions=(*APPLICATION_TRANSFER.versions, SchemaVersion("2.1")))
    report = check_evolution(tmp_path, EXAMPLES, [listed])
    assert report.failures == ["application-transfer 2.1: no stored valid example of this version"]
    assert "application-transfer 2.0 → 2.1: compatible, 1 example(s) of 2.0 stay valid" in report.checked


def test_schemas_check_command_passes_on_the_real_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    """`silta schemas check` exits 0 and says which steps it checked."""
    assert main(["schemas", "check"]) == 0
    assert "ok: application-transfer 1.0 → 2.0: compatible" in capsys.readouterr().out


def test_schemas_check_command_fails_on_a_breaking_schema(
    broken_schemas: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the broken 2.0 XSD the command exits 1 and prints the failure, for CI to stop on."""
    assert main(["schemas", "check", "--schemas", str(broken_schemas), "--examples", str(EXAMPLES)]) == 1
    assert "FAILED: application-transfer 1.0 → 2.0: application-transfer.xml" in capsys.readouterr().out
