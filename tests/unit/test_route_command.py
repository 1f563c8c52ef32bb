"""`silta route`: every municipality routes for every message type; Åland and unknown codes fail."""

from __future__ import annotations

import pytest

from broker.domain.catalogue import CATALOGUE, Direction
from entrypoints.bootstrap import municipality_table
from entrypoints.cli import main
from entrypoints.routing_report import route_lines

TABLE = municipality_table()
MAINLAND = [m for m in TABLE if m.county_code is not None]
ALAND = [m for m in TABLE if m.county_code is None]


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_mainland_municipality_routes_for_every_type(name: str) -> None:
    """Each of the mainland municipalities has a recipient for each type, of the kind the direction says."""
    lines, failed = route_lines(TABLE, name, [m.code for m in MAINLAND])
    assert not failed
    direction = CATALOGUE[name].direction
    for municipality, line in zip(MAINLAND, lines, strict=True):
        code, recipient = line.split("\t")
        assert code == municipality.code
        if direction is Direction.ORGANISER_TO_KELA:
            assert recipient == "kela"
        elif direction is Direction.KELA_TO_MUNICIPALITY:
            assert recipient == f"kunta-{municipality.merged_into or municipality.code}"
        else:
            assert recipient == f"hva-{municipality.county_code}"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_aland_is_refused_for_every_type(name: str) -> None:
    """Åland's 16 municipalities are outside the social-assistance scheme: every line is an error."""
    assert len(ALAND) == 16
    lines, failed = route_lines(TABLE, name, [m.code for m in ALAND])
    assert failed
    assert all(line.split("\t")[1].startswith("error: ") and "Åland" in line for line in lines)


def test_route_command_prints_a_line_per_code_and_exits_non_zero_on_failure(capsys: pytest.CaptureFixture[str]) -> None:
    """The command prints `code<TAB>recipient` or `code<TAB>error: reason` and exits 1 if any failed."""
    assert main(["route", "--type", "immigrant-notice", "091", "837"]) == 0
    assert capsys.readouterr().out.splitlines() == ["091\tkunta-091", "837\tkunta-837"]
    assert main(["route", "--type", "application-transfer", "588", "000"]) == 1
    assert capsys.readouterr().out.splitlines() == ["588\thva-12", "000\terror: unknown municipality code"]


def test_route_command_refuses_an_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown message type is an error line for every code."""
    assert main(["route", "--type", "no-such-type", "091"]) == 1
    assert "error: unknown message type" in capsys.readouterr().out


def test_a_merged_municipality_s_notices_go_to_its_successor() -> None:
    """Pertunmaa (588) merged into Mäntyharju (507) on 1.1.2025: its immigrant notices go to kunta-507."""
    assert route_lines(TABLE, "immigrant-notice", ["588"]) == (["588\tkunta-507"], False)
