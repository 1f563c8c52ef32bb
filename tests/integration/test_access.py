"""The role table, swept: every route of the app × every role and every bad token, as the table says.

Each request carries a body that is wrong for every route (JSON that does not
parse), and the app runs behind a watch on its ASGI `receive`: a refused
caller gets 401 or 403, never 400 or 422, and not one byte of its body is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import Message, Receive, Scope, Send

from adapters.access import ROUTE_ROLES, AccessChecked, Role
from adapters.console.guard import ConsoleAccessChecked
from broker.crypto.tokens import mint_token
from tests.conftest import AUDIENCE, ISSUER
from tests.support.clients import CLIENT_OF_ROLE

pytestmark = pytest.mark.integration
PUBLIC = {
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/docs"),  # the API's description, served offline by fastapi-offline
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/console/sign-in"),  # the console's sign-in form, and its POST that verifies the token itself
    ("POST", "/console/sign-in"),
}
WRONG_BODY = b'{"personal_identity_code": [1, 2'
_DUMMY = {"attachment_id": "0" * 64, "record_id": "1"}
_UUID = "00000000-0000-4000-8000-000000000000"


class BodyWatch:
    """The app behind a watch on its ASGI `receive`: records whether any of a request's body was read."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.bodies_read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; count each body message the app takes from `receive`."""

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "http.request" and message.get("body"):
                self.bodies_read += 1
            return message

        await self.app(scope, watched, send)


@pytest.fixture
async def watched(app: FastAPI) -> tuple[httpx.AsyncClient, BodyWatch]:
    """A client of the app behind a `BodyWatch`."""
    watch = BodyWatch(app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=watch), base_url="http://silta.test"), watch


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every FastAPI route, also inside included routers (which FastAPI ≥ 0.165 keeps whole in `app.routes`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) of `app.routes` but the public ones."""
    found = {(method, route.path_format) for route in _api_routes(app.routes) for method in route.methods or ()}
    return sorted(found - PUBLIC)


def _bearer_operations(app: FastAPI) -> list[tuple[str, str]]:
    """The operations a bearer token opens; the console's go by its session cookie (test_console_*)."""
    return [(method, path) for method, path in _operations(app) if not _is_console(path)]


def _is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


def _url(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _DUMMY.get(m.group(1), _UUID), template)


async def _call(client: httpx.AsyncClient, method: str, template: str, authorization: str | None) -> httpx.Response:
    """One request with the wrong body (and `wait=0`, so the inbox does not long-poll)."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": authorization} if authorization else {})
    return await client.request(method, _url(template), headers=headers, params={"wait": 0}, content=WRONG_BODY)


def test_the_table_and_the_app_agree_both_ways(app: FastAPI) -> None:
    """Each route of the app is in the table, checked by `AccessChecked`; the table names no other route."""
    assert set(_operations(app)) == set(ROUTE_ROLES)
    checked = AccessChecked | ConsoleAccessChecked
    unchecked = [(m, r.path) for r in _api_routes(app.routes) if not isinstance(r, checked) for m in r.methods or ()]
    assert sorted(unchecked) == sorted(PUBLIC)
    assert set().union(*ROUTE_ROLES.values()) == set(Role), "a role that may call nothing is a role too many"


def test_the_openapi_document_names_the_same_operations(app: FastAPI) -> None:
    """What the document describes is what the table guards, and each operation states its roles."""
    paths = app.openapi()["paths"]
    documented = {
        (method.upper(), path): operation.get("x-silta-roles")
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert {op: roles for op, roles in documented.items() if op not in PUBLIC} == {
        op: sorted(roles) for op, roles in ROUTE_ROLES.items() if not _is_console(op[1])
    }


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_reaches_exactly_the_operations_the_table_gives_it(
    role: Role, app: FastAPI, watched: tuple[httpx.AsyncClient, BodyWatch], token_for: Callable[..., str]
) -> None:
    """A role outside an operation's row gets 403 client-not-allowed with its body unread; one inside never does."""
    client, watch = watched
    authorization = f"Bearer {token_for(CLIENT_OF_ROLE[role])}"
    async with client:
        for method, template in _bearer_operations(app):
            before = watch.bodies_read
            answer = await _call(client, method, template, authorization)
            refused = answer.status_code == 403 and answer.json().get("code") == "client-not-allowed"
            admitted = role in ROUTE_ROLES[(method, template)]
            assert refused is not admitted, f"{role} {method} {template}: {answer.text[:200]}"
            if refused:
                assert watch.bodies_read == before, f"{role} {method} {template}: the body was read"


def _bad_tokens(signing_key: Ed25519PrivateKey, token_for: Callable[..., str]) -> dict[str, tuple[str | None, str]]:
    """Each kind of bad credential: the Authorization header, and the code it is refused with."""
    other_key = Ed25519PrivateKey.generate()
    unsigned = jwt.encode({"client_id": "kela", "iss": ISSUER, "aud": AUDIENCE}, "", algorithm="none")
    return {
        "no token": (None, "token-missing"),
        "not a bearer token": ("Basic a2VsYTpzZWNyZXQ=", "token-missing"),
        "expired": (f"Bearer {token_for('kela', dt.timedelta(seconds=-5))}", "token-invalid"),
        "wrong signature, same key id": (f"Bearer {mint_token(other_key, 'kela', ISSUER, AUDIENCE)}", "token-invalid"),
        "wrong audience": (f"Bearer {mint_token(signing_key, 'kela', ISSUER, 'another-service')}", "token-invalid"),
        "unknown key id": (
            f"Bearer {mint_token(signing_key, 'kela', ISSUER, AUDIENCE, key_id='silta-retired-0')}",
            "token-invalid",
        ),
        "wrong issuer": (f"Bearer {mint_token(signing_key, 'kela', 'another-issuer', AUDIENCE)}", "token-invalid"),
        "malformed": ("Bearer not-a.jwt", "token-invalid"),
        "unsigned (alg none)": (f"Bearer {unsigned}", "token-invalid"),
    }


BAD_TOKENS = [
    "no token",
    "not a bearer token",
    "expired",
    "wrong signature, same key id",
    "wrong audience",
    "unknown key id",
    "wrong issuer",
    "malformed",
    "unsigned (alg none)",
]


@pytest.mark.parametrize("fault", BAD_TOKENS)
async def test_every_operation_refuses_a_bad_token_with_401_before_reading_the_body(
    fault: str,
    app: FastAPI,
    watched: tuple[httpx.AsyncClient, BodyWatch],
    signing_key: Ed25519PrivateKey,
    token_for: Callable[..., str],
) -> None:
    """401 with the fault's stable code, a problem document and a Bearer challenge (RFC 6750); no body read."""
    authorization, code = _bad_tokens(signing_key, token_for)[fault]
    challenge = 'Bearer realm="silta"' + (', error="invalid_token"' if code == "token-invalid" else "")
    client, watch = watched
    async with client:
        for method, template in _bearer_operations(app):
            answer = await _call(client, method, template, authorization)
            where = f"{fault}: {method} {template}: {answer.text[:200]}"
            assert (answer.status_code, answer.json()["code"]) == (401, code), where
            assert answer.headers["content-type"] == "application/problem+json", where
            assert answer.headers["www-authenticate"] == challenge, where
            assert not authorization or authorization.removeprefix("Bearer ") not in answer.text, where
    assert watch.bodies_read == 0


async def test_the_watch_sees_a_body_the_app_reads(
    watched: tuple[httpx.AsyncClient, BodyWatch], token_for: Callable[..., str]
) -> None:
    """The control for the sweeps above: an admitted caller's body is read, and JSON that does not parse is 400."""
    client, watch = watched
    async with client:
        answer = await _call(client, "POST", "/admin/v1/guardian-mandates", f"Bearer {token_for('silta-admin')}")
    assert (answer.status_code, answer.json()["code"]) == (400, "json-not-well-formed")
    assert watch.bodies_read == 1


async def test_a_well_signed_token_of_a_client_without_a_role_is_403_client_unknown(
    app: FastAPI, watched: tuple[httpx.AsyncClient, BodyWatch], token_for: Callable[..., str]
) -> None:
    """A client the settings do not name is refused on every operation, before its body is read."""
    client, watch = watched
    async with client:
        for method, template in _bearer_operations(app):
            answer = await _call(client, method, template, f"Bearer {token_for('somebody')}")
            assert (answer.status_code, answer.json()["code"]) == (403, "client-unknown"), f"{method} {template}"
    assert watch.bodies_read == 0


async def test_a_guardians_portal_cannot_ask_for_anyones_disclosure_log(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Neither the portal nor Kela's back office may run the data subject's question; only data protection."""
    for client in ("guardian-portal", "kela", "silta-operator"):
        answer = await api.post(
            "/kela/v1/disclosure-queries",
            json={"personal_identity_code": "010594Y9032"},
            headers={"Authorization": f"Bearer {token_for(client)}"},
        )
        assert (answer.status_code, answer.json()["code"]) == (403, "client-not-allowed"), client
    answer = await api.post(
        "/kela/v1/disclosure-queries",
        json={"personal_identity_code": "010594Y9032"},
        headers={"Authorization": f"Bearer {token_for('kela-data-protection')}"},
    )
    assert answer.status_code == 200
