"""Who may call which route: one table, by the role of the calling client.

Each client's role is in the settings (`SILTA_AUTH_CLIENT_ROLES`, see
`broker.domain.clients`). `ROUTE_ROLES` names, for each operation (method and
path template), the roles it admits; an operation missing from it admits
nobody. Every router is built with `route_class=AccessChecked`, which checks
the bearer token and then the table *before* FastAPI reads, parses or
validates the request body: an anonymous caller gets 401 and a caller of
another role 403 `client-not-allowed`, whatever it sent. What a route then
shows an admitted caller (only its own messages, say) is the use case's
business. `docs/access.md` is generated from this table, the OpenAPI document
names the roles of each operation, and `tests/integration/test_access.py`
sweeps every route of the app against it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from adapters.rejection_record import note_caller
from broker.crypto.tokens import Caller
from broker.domain.clients import Role
from broker.domain.errors import ErrorCode, Rejection
from broker.services.registry import ServiceLayer

__all__ = ["ROUTE_ROLES", "AccessChecked", "Role", "check_access", "check_role", "roles_of"]

_KELA = frozenset({Role.KELA})
_PORTAL = frozenset({Role.GUARDIAN_PORTAL})
_OPERATIONS = frozenset({Role.OPERATOR, Role.ADMIN})
_ORGANISER = frozenset({Role.ORGANISER})
_CONSOLE = frozenset({Role.OPERATOR, Role.ADMIN, Role.KELA_DATA_PROTECTION})
ROUTE_ROLES: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/kela/v1/messages"): _KELA,
    ("GET", "/kela/v1/messages"): frozenset({Role.KELA, Role.OPERATOR}),
    ("GET", "/kela/v1/messages/{message_id}"): frozenset({Role.KELA, Role.ORGANISER, Role.OPERATOR}),
    ("GET", "/kela/v1/inbox"): _KELA,
    ("GET", "/kela/v1/rejections"): frozenset({Role.KELA, Role.OPERATOR}),
    ("GET", "/organiser/v1/messages"): _ORGANISER,
    ("GET", "/organiser/v1/messages/{message_id}"): _ORGANISER,
    ("GET", "/kela/v1/inbox/{message_id}"): _KELA,
    ("POST", "/kela/v1/inbox/{message_id}/receipt"): _KELA,
    ("POST", "/kela/v1/attachments"): _KELA,
    ("POST", "/kela/v1/disclosure-queries"): frozenset({Role.KELA_DATA_PROTECTION}),
    ("POST", "/attachments"): frozenset({Role.KELA, Role.ORGANISER}),
    ("GET", "/attachments/{attachment_id}"): frozenset({Role.KELA, Role.ORGANISER}),
    ("GET", "/guardian/v1/principals"): _PORTAL,
    ("GET", "/guardian/v1/principals/{principal_ref}"): _PORTAL,
    ("POST", "/guardian/v1/principals/{principal_ref}/requests/{request_id}/attachments"): _PORTAL,
    ("POST", "/admin/v1/guardian-mandates"): frozenset({Role.ADMIN}),
    ("GET", "/admin/v1/parked"): _OPERATIONS,
    ("GET", "/admin/v1/parked/{record_id}"): _OPERATIONS,
    ("POST", "/admin/v1/parked/replay"): _OPERATIONS,
    ("POST", "/admin/v1/parked/{record_id}/replay"): _OPERATIONS,
    ("POST", "/admin/v1/parked/{record_id}/discard"): _OPERATIONS,
    ("GET", "/admin/v1/rejections"): _OPERATIONS,
    # The console authenticates by its session cookie (adapters.console.guard), by the same table.
    ("GET", "/console"): _CONSOLE,
    ("GET", "/console/overview-panel"): _CONSOLE,
    ("GET", "/console/parked"): _CONSOLE,
    ("POST", "/console/parked/{record_id}/replay"): _OPERATIONS,
    ("POST", "/console/parked/replay-selected"): _OPERATIONS,
    ("POST", "/console/parked/replay-matching"): _OPERATIONS,
    ("POST", "/console/parked/{record_id}/discard"): _OPERATIONS,
    ("GET", "/console/tracking"): _CONSOLE,
    ("POST", "/console/sign-out"): _CONSOLE,
    ("GET", "/console/audit"): _CONSOLE,
    ("POST", "/console/audit/verify"): _CONSOLE,
}
"""Every authenticated operation, by method and path template: the roles that may call it."""


def roles_of(method: str, path: str) -> frozenset[Role]:
    """The roles the table admits to an operation; none for an operation it does not name."""
    return ROUTE_ROLES.get((method.upper(), path), frozenset())


async def check_access(services: ServiceLayer, authorization: str | None, method: str, path: str) -> Caller:
    """Admit the caller only if its token is good and the table lists its role for this operation.

    Raises `token-missing`/`token-invalid` (401), `client-unknown` or `client-not-allowed` (403).
    """
    caller = await services.caller(authorization)
    check_role(caller, method, path)
    return caller


def check_role(caller: Caller, method: str, path: str) -> None:
    """`client-not-allowed` (403) unless the table lists the caller's role for this operation."""
    admitted = roles_of(method, path)
    if caller.role not in admitted:
        names = ", ".join(sorted(admitted)) or "no"
        raise Rejection(ErrorCode.CLIENT_NOT_ALLOWED, f"this route is for {names} clients only")


class AccessChecked(APIRoute):
    """A route that checks the caller against `ROUTE_ROLES` before anything of the request is read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler (which reads the body, then solves the dependencies), behind the access check."""
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            services: ServiceLayer = request.app.state.services
            caller = await services.caller(request.headers.get("authorization"))
            note_caller(request.scope, caller)
            check_role(caller, request.method, self.path_format)
            return await handler(request)

        return checked
