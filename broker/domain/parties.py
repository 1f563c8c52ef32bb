"""The parties Silta connects: Kela, the 22 organisers, municipalities."""

from __future__ import annotations

import re
from enum import StrEnum

KELA = "kela"
SILTA = "silta"
"""Silta itself, as the sender of its own receipts and notices."""
_ORGANISER = re.compile(r"^hva-(0[1-9]|1[0-9]|2[01]|90)$")
_MUNICIPALITY = re.compile(r"^kunta-\d{3}$")


class PartyRole(StrEnum):
    """The role a party plays towards the statutory filter."""

    KELA = "kela"
    ORGANISER = "organiser"
    MUNICIPALITY = "municipality"
    GUARDIAN = "guardian"


def organiser_id(county_code: str) -> str:
    """The party id of an organiser from its two-digit county code (`90` is Helsinki)."""
    return f"hva-{county_code}"


def role_of(party: str) -> PartyRole | None:
    """The role of a party id, or None if the id names no known party."""
    if party == KELA:
        return PartyRole.KELA
    if _ORGANISER.match(party):
        return PartyRole.ORGANISER
    if _MUNICIPALITY.match(party):
        return PartyRole.MUNICIPALITY
    return None


def all_organisers() -> list[str]:
    """The 22 organisers: the 21 wellbeing services counties and the City of Helsinki."""
    return [organiser_id(f"{n:02d}") for n in range(1, 22)] + [organiser_id("90")]


def is_organiser(party: str) -> bool:
    """Whether the id names one of the 22 organisers (`hva-01` … `hva-21`, `hva-90`)."""
    return role_of(party) is PartyRole.ORGANISER
