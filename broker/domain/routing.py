"""Who receives a message: municipality → organiser, from Statistics Finland's 2025 data.

The competent organiser is the one where the applicant permanently lives
(1412/1997 27 §). Åland's 16 municipalities are outside the social-assistance
scheme and have no organiser. Since 2025 immigrant notices go to the
municipality itself (`kunta-NNN`), not to its organiser.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from broker.domain.parties import organiser_id

# Codes merged away before 2025 that messages about earlier periods may still
# name: Pertunmaa (588) merged into Mäntyharju (507, county 12) on 1.1.2025.
_HISTORIC_MUNICIPALITIES: dict[str, tuple[str, str, str]] = {"588": ("Pertunmaa", "12", "507")}


class RecipientKind(StrEnum):
    """Whether a message type goes to the organiser or to the municipality itself."""

    ORGANISER = "organiser"
    MUNICIPALITY = "municipality"


@dataclass(frozen=True)
class Municipality:
    """One municipality and the county code of its organiser (None for Åland)."""

    code: str
    name: str
    county_code: str | None
    merged_into: str | None = None
    """For a code merged away: the municipality that took it over (its notices go there)."""


class RoutingError(Exception):
    """The municipality code leads to no recipient; `reason` says why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class MunicipalityTable:
    """The municipality → organiser table, loaded from the project's CSV copy."""

    def __init__(self, municipalities: list[Municipality]) -> None:
        self._by_code = {m.code: m for m in municipalities}

    @classmethod
    def from_csv(cls, text: str) -> MunicipalityTable:
        """Read `municipality_code,municipality_name_fi,…,county_code,…` rows."""
        rows = csv.DictReader(io.StringIO(text))
        municipalities = [
            Municipality(row["municipality_code"], row["municipality_name_fi"], row["county_code"] or None)
            for row in rows
        ]
        for code, (name, county, successor) in _HISTORIC_MUNICIPALITIES.items():
            municipalities.append(Municipality(code, name, county, successor))
        return cls(municipalities)

    @classmethod
    def shipped(cls) -> MunicipalityTable:
        """The 2025 table shipped with the package (`broker/data/municipalities-2025.csv`)."""
        return cls.from_csv(resources.files("broker.data").joinpath("municipalities-2025.csv").read_text("utf-8"))

    def __iter__(self) -> Iterator[Municipality]:
        return iter(self._by_code.values())

    def recipient(self, municipality_code: str, kind: RecipientKind) -> str:
        """The party id that receives a message about someone living in the municipality."""
        municipality = self._by_code.get(municipality_code)
        if municipality is None:
            raise RoutingError(municipality_code, "unknown municipality code")
        if municipality.county_code is None:
            raise RoutingError(
                municipality_code,
                f"{municipality.name} is in Åland, which is outside the social-assistance scheme: no organiser",
            )
        if kind is RecipientKind.MUNICIPALITY:
            return f"kunta-{municipality.merged_into or municipality.code}"
        return organiser_id(municipality.county_code)
