"""The role table, swept: every route of the app × every kind of client, refused or admitted as the table says."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from adapters.access import ROUTE_ROLES, Role

pytestmark = pytest.mark.integration
CLIENT_OF_ROLE = {
    Role.KELA: "kela",
    Role.ORGANISER: "hva-08-case-system",
    Role.GUARDIAN_PORTAL: "guardian-portal",
    Role.ADMIN: "silta-admin",
}
_DUMMY = {"attachment_id": "0" * 64}
_UUID = "00000000-0000-4000-8000-000000000000"
_PUBLIC = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json")


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves, from its OpenAPI document, less the public ones."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if not path.startswith(_PUBLIC)
        for method in sorted(operations)
    ]


def _url(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _DUMMY.get(m.group(1), _UUID), template)


def test_every_authenticated_route_is_in_the_table(app: FastAPI) -> None:
    """A route the table does not name would admit nobody: each one is named, and the table names no other."""
    assert {path for _, path in _routes(app)} == set(ROUTE_ROLES)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_reaches_exactly_the_routes_the_table_gives_it(
    role: Role, app: FastAPI, api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A role outside a route's row gets 403 client-not-allowed before any body is read; a role inside never does."""
    headers = {"Authorization": f"Bearer {token_for(CLIENT_OF_ROLE[role])}"}
    for method, template in _routes(app):
        answer = await api.request(method, _url(template), headers=headers, params={"wait": 0})
        refused = answer.status_code == 403 and answer.json().get("code") == "client-not-allowed"
        assert refused is (role not in ROUTE_ROLES[template]), f"{role} {method} {template}: {answer.text[:200]}"


async def test_a_guardians_portal_cannot_ask_for_anyones_disclosure_log(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The portal's token on the data subject's question: refused, whatever the body."""
    answer = await api.post(
        "/kela/v1/disclosure-queries",
        json={"personal_identity_code": "010594Y9032"},
        headers={"Authorization": f"Bearer {token_for('guardian-portal')}"},
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "client-not-allowed")
