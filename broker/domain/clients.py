"""Silta's REST clients: the role each one has and the party it acts as.

A token names its client (`client_id`); the settings give each client one
role (`SILTA_AUTH_CLIENT_ROLES`) and, for a client acting for an organiser,
the organiser (`SILTA_AUTH_CLIENTS`). Kela's clients always act as `kela`; a
portal, an operator or an admin acts as no party (its party is its own client
id). `resolve_clients` checks the two mappings together once, at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from broker.domain.parties import KELA, all_organisers, is_organiser


class Role(StrEnum):
    """The kinds of REST client Silta knows: what a client may do follows from its role alone."""

    KELA = "kela"
    KELA_DATA_PROTECTION = "kela-data-protection"
    ORGANISER = "organiser"
    GUARDIAN_PORTAL = "guardian-portal"
    OPERATOR = "operator"
    ADMIN = "admin"


ROLE_DUTIES: dict[Role, str] = {
    Role.KELA: "Kela's back-office systems: send messages, pull and receipt the inbox, follow their messages",
    Role.KELA_DATA_PROTECTION: (
        "Kela's data-protection function: answers the data subject's question (703/2023 11 §) about the"
        " disclosures and uses Silta logged"
    ),
    Role.ORGANISER: (
        "an organiser's case system (each client acts for one organiser): search and follow the messages it"
        " sent or receives, and their attachments"
    ),
    Role.GUARDIAN_PORTAL: "the guardians' portal: a guardian's limited view of the principals' matters, uploads",
    Role.OPERATOR: "Silta's operators: the status and history of any message, never its content or attachments",
    Role.ADMIN: "the mandate registry's administration: load mandates from the guardianship register",
}
"""What each role is for, in the words the docs use."""

_ACTS_AS_KELA = frozenset({Role.KELA, Role.KELA_DATA_PROTECTION})


@dataclass(frozen=True)
class ClientGrant:
    """What a configured client is: its role and the party it acts as."""

    role: Role
    party: str


class ClientConfigError(ValueError):
    """The client settings do not fit together; the message names every client at fault."""


def resolve_clients(roles: Mapping[str, Role], parties: Mapping[str, str]) -> dict[str, ClientGrant]:
    """Each configured client's role and party, or a `ClientConfigError` naming every misfit.

    Every client with a party needs a role; an organiser's client names a real organiser; Kela's clients act as
    `kela`; a portal, operator or admin acts as no party (its party, if given at all, is its own client id).
    """
    misfits: dict[str, list[str]] = {}
    for client in sorted(set(parties) - set(roles)):
        misfits.setdefault("a party but no role", []).append(client)
    grants: dict[str, ClientGrant] = {}
    for client, role in sorted(roles.items()):
        party = parties.get(client)
        acts_as, misfit = _party_of(client, role, party)
        if misfit is None:
            grants[client] = ClientGrant(role, acts_as)
        else:
            misfits.setdefault(misfit, []).append(client if party is None else f"{client} → {party}")
    if misfits:
        raise ClientConfigError(
            "; ".join(f"clients with {what}: {', '.join(found)}" for what, found in misfits.items())
        )
    return grants


def _party_of(client: str, role: Role, party: str | None) -> tuple[str, str | None]:
    """The party a client of `role` acts as, or what is wrong with the configured one."""
    if role is Role.ORGANISER:
        if party is None or not is_organiser(party):
            return "", "the organiser role but no organiser id (hva-01 … hva-21, hva-90) as their party"
        return party, None
    if role in _ACTS_AS_KELA:
        return KELA, None if party in (None, KELA) else "a Kela role but another party than kela"
    if party not in (None, client):
        return "", f"the {role} role, which acts as no party, but a party"
    return client, None


def case_system_client(organiser: str) -> str:
    """The development client id of an organiser's case system, e.g. `hva-08-case-system`."""
    return f"{organiser}-case-system"


DEV_CLIENT_ROLES: dict[str, Role] = {
    "kela": Role.KELA,
    "kela-data-protection": Role.KELA_DATA_PROTECTION,
    "guardian-portal": Role.GUARDIAN_PORTAL,
    "silta-operator": Role.OPERATOR,
    "silta-admin": Role.ADMIN,
    **{case_system_client(organiser): Role.ORGANISER for organiser in all_organisers()},
}
"""The clients of a local run: one of every role, and a case system for each of the 22 organisers."""

DEV_CLIENT_PARTIES: dict[str, str] = {case_system_client(organiser): organiser for organiser in all_organisers()}
"""The organisers the local case-system clients act for (Kela's clients act as kela, the rest as themselves)."""
