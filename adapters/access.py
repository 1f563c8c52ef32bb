"""Who may call which route: one table, by the role of the calling client.

A client's role follows from the settings: a guardians' portal client, an admin
client, a client acting for Kela (its back office), or one acting for an
organiser (its case system). A route's router names the roles it admits; a
caller with another role gets 403 `client-not-allowed` before its request body
is read. `tests/integration/test_access.py` sweeps every route of the app
against this table.
"""

from __future__ import annotations

from enum import StrEnum

from fastapi import Depends, Request

from adapters.http import Authenticated, Services
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.parties import KELA, PartyRole, role_of
from broker.settings import Settings


class Role(StrEnum):
    """The kinds of REST client Silta knows."""

    KELA = "kela"
    """Kela's back-office systems."""
    ORGANISER = "organiser"
    """An organiser's case system: the attachments of its messages, the status of its own messages."""
    GUARDIAN_PORTAL = "guardian-portal"
    ADMIN = "admin"


ROUTE_ROLES: dict[str, frozenset[Role]] = {
    "/kela/v1/messages": frozenset({Role.KELA}),
    "/kela/v1/messages/{message_id}": frozenset({Role.KELA, Role.ORGANISER}),
    "/kela/v1/inbox": frozenset({Role.KELA}),
    "/kela/v1/inbox/{message_id}": frozenset({Role.KELA}),
    "/kela/v1/inbox/{message_id}/receipt": frozenset({Role.KELA}),
    "/kela/v1/attachments": frozenset({Role.KELA}),
    "/kela/v1/disclosure-queries": frozenset({Role.KELA}),
    "/attachments": frozenset({Role.KELA, Role.ORGANISER}),
    "/attachments/{attachment_id}": frozenset({Role.KELA, Role.ORGANISER}),
    "/guardian/v1/principals": frozenset({Role.GUARDIAN_PORTAL}),
    "/guardian/v1/principals/{principal_ref}": frozenset({Role.GUARDIAN_PORTAL}),
    "/guardian/v1/principals/{principal_ref}/requests/{request_id}/attachments": frozenset({Role.GUARDIAN_PORTAL}),
    "/admin/v1/guardian-mandates": frozenset({Role.ADMIN}),
}
"""Every authenticated route, by its path template: the roles that may call it."""


def role_of_client(client_id: str, party: str, settings: Settings) -> Role | None:
    """The role of an authenticated client, or None if it has none."""
    if client_id in settings.guardian_portal_clients:
        return Role.GUARDIAN_PORTAL
    if client_id in settings.admin_clients:
        return Role.ADMIN
    if party == KELA:
        return Role.KELA
    if role_of(party) is PartyRole.ORGANISER:
        return Role.ORGANISER
    return None


async def route_access(request: Request, services: Services, caller: Authenticated) -> None:
    """Admit the caller only if the table lists its role for this route; a route not in the table admits nobody."""
    template = getattr(request.scope.get("route"), "path", None)
    admitted = ROUTE_ROLES.get(template or "", frozenset())
    if role_of_client(caller.client_id, caller.party, services.settings) not in admitted:
        names = ", ".join(sorted(admitted)) or "no"
        raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, f"this route is for {names} clients only")


Admitted = Depends(route_access)
"""The dependency every router declares after authentication."""
