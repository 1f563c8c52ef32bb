"""Routing by home municipality, for every municipality of the 2025 data."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from broker.domain.parties import all_organisers
from broker.domain.routing import RecipientKind, RoutingError
from entrypoints.bootstrap import municipality_table

_CSV = resources.files("broker.data").joinpath("municipalities-2025.csv").read_text(encoding="utf-8")
ROWS = list(csv.DictReader(io.StringIO(_CSV)))
TABLE = municipality_table()


def test_the_data_has_308_municipalities_of_which_16_in_aland() -> None:
    """The copy of Statistics Finland's 2025 table is complete."""
    assert len(ROWS) == 308
    assert sum(1 for row in ROWS if not row["county_code"]) == 16


@pytest.mark.parametrize("row", [r for r in ROWS if r["county_code"]], ids=lambda r: r["municipality_code"])
def test_every_mainland_municipality_routes_to_its_organiser(row: dict[str, str]) -> None:
    """Each municipality's transfers go to `hva-<county code>`."""
    assert TABLE.recipient(row["municipality_code"], RecipientKind.ORGANISER) == f"hva-{row['county_code']}"


@pytest.mark.parametrize("row", [r for r in ROWS if not r["county_code"]], ids=lambda r: r["municipality_code"])
def test_aland_municipalities_have_no_organiser(row: dict[str, str]) -> None:
    """Åland is outside the scheme: routing refuses with a reason that says so."""
    with pytest.raises(RoutingError, match="Åland"):
        TABLE.recipient(row["municipality_code"], RecipientKind.ORGANISER)


def test_helsinki_is_its_own_organiser() -> None:
    """Helsinki (091) organises its own services: hva-90."""
    assert TABLE.recipient("091", RecipientKind.ORGANISER) == "hva-90"


def test_pertunmaa_still_routes_to_south_savo() -> None:
    """Pertunmaa (588) merged into Mäntyharju in 2025; older messages still route to hva-12."""
    assert TABLE.recipient("588", RecipientKind.ORGANISER) == "hva-12"
    assert TABLE.recipient("507", RecipientKind.ORGANISER) == "hva-12"


def test_unknown_code_is_refused() -> None:
    """A code that names no municipality is refused."""
    with pytest.raises(RoutingError, match="unknown municipality"):
        TABLE.recipient("999", RecipientKind.ORGANISER)


def test_municipality_kind_goes_to_the_municipality_itself() -> None:
    """Types addressed to municipalities route to `kunta-NNN`."""
    assert TABLE.recipient("049", RecipientKind.MUNICIPALITY) == "kunta-049"


def test_all_22_organisers_are_reached() -> None:
    """Every organiser receives some municipality's messages."""
    reached = {TABLE.recipient(r["municipality_code"], RecipientKind.ORGANISER) for r in ROWS if r["county_code"]}
    assert reached == set(all_organisers())
