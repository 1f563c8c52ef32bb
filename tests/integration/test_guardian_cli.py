"""`silta guardians import` against real PostgreSQL, and `silta token --guardian` for the portal's two credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.crypto.assertions import AssertionVerifier
from broker.crypto.tokens import Caller
from entrypoints.cli import main

pytestmark = pytest.mark.integration
HEADER = "guardian_id,principal_identity_code,scope,valid_from,valid_to,source_reference\n"
ROWS = "edv-0001,010594Y9032,financial,2024-01-01,,DVV-1\nedv-0001,120390-912T,personal,2024-01-01,,DVV-2\n"


def test_import_is_all_or_nothing_and_names_the_bad_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with one bad row stores nothing and names line 4; the corrected file then creates both rows."""
    monkeypatch.setenv("SILTA_DATABASE_URL", database_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + ROWS + "edv-0001,010594Y903A,financial,2024-01-01,,DVV-3\n")
    assert main(["guardians", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 4: principal_identity_code" in err
    assert "nothing imported" in err
    assert "010594Y903A" not in err
    good = tmp_path / "good.csv"
    good.write_text(HEADER + ROWS)
    assert main(["guardians", "import", str(good)]) == 0
    assert capsys.readouterr().out.strip() == "imported 2 mandates: 2 new, 0 updated"
    assert main(["guardians", "import", str(good)]) == 0
    assert capsys.readouterr().out.strip() == "imported 2 mandates: 0 new, 2 updated"


def test_token_with_guardian_prints_a_service_token_and_a_verifiable_assertion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silta token --client guardian-portal --guardian ID` prints TOKEN= and ASSERTION= lines for `eval`."""
    monkeypatch.setenv("SILTA_DEV_SIGNING_KEY_FILE", str(tmp_path / "dev.pem"))
    monkeypatch.setenv("SILTA_AUTH_JWKS_FILE", str(tmp_path / "jwks.json"))
    assert main(["token", "--client", "guardian-portal", "--guardian", "edv-0001"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert set(lines) == {"TOKEN", "ASSERTION"}
    verifier = AssertionVerifier(json.loads((tmp_path / "jwks.json").read_text()), "guardian-portal", "silta-guardian")
    portal = Caller("guardian-portal", "guardian-portal")
    assert verifier.verify(lines["ASSERTION"], portal).guardian_id == "edv-0001"
