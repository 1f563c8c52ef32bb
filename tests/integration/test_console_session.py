"""The console at /console: sign-in by token, the session cookie and its secret, sign-out, CSRF, masking."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from adapters.console.session import COOKIE
from adapters.masking import mask_identity_codes
from broker.domain.clients import Role
from broker.settings import Settings
from entrypoints.api import create_app
from tests.support.console import sign_in, sign_in_token, signed_in

pytestmark = pytest.mark.integration


async def test_sign_in_sets_a_strict_http_only_cookie(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An operator token is exchanged for an HttpOnly, SameSite=Strict cookie on /console; pages need it."""
    assert (await api.get("/console")).json()["code"] == "console-session-missing"
    answer = await sign_in(api, token_for("silta-operator"))
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("silta_console=")).lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/console" in cookie
    page = await api.get("/console")
    assert page.status_code == 200
    assert "Overview" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_sign_in_refuses_a_role_without_console(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Kela's back-office token does not open the console."""
    answer = await sign_in(api, token_for("kela"))
    assert answer.status_code == 403
    assert answer.json()["code"] == "client-not-allowed"


async def test_a_post_without_the_csrf_token_is_refused(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """A POST with the session cookie but no or a wrong CSRF token is a 403 `csrf-token-invalid`."""
    csrf = await signed_in(api, token_for("silta-operator"))
    missing = await api.post("/console/sign-out")
    wrong = await api.post("/console/sign-out", headers={"X-CSRF-Token": "x" + csrf})
    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["code"] == wrong.json()["code"] == "csrf-token-invalid"
    out = await api.post("/console/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert 'silta_console=""' in out.headers["set-cookie"]


async def test_overview_and_dead_letters_open_for_an_operator(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The overview refreshes itself by htmx and the dead-letter page lists what is parked (nothing yet)."""
    await signed_in(api, token_for("silta-operator"))
    page = await api.get("/console")
    assert 'hx-trigger="every 5s"' in page.text
    assert "No backlog" in (await api.get("/console/overview-panel")).text
    assert "Nothing parked." in (await api.get("/console/parked")).text


def test_identity_codes_masked_unless_the_role_has_clearance() -> None:
    """An operator sees 120390-9***; Kela's data-protection function sees the code in full."""
    text = "subject 120390-912T refused"
    assert mask_identity_codes(text, Role.OPERATOR) == "subject 120390-9*** refused"
    assert mask_identity_codes(text, Role.ADMIN) == "subject 120390-9*** refused"
    assert mask_identity_codes(text, Role.KELA_DATA_PROTECTION) == text


@asynccontextmanager
async def _instance(settings: Settings, secret: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Another instance of the service on the same database, its console signed with `secret`, no Kafka side."""
    other: FastAPI = create_app(
        settings.model_copy(
            update={"console_session_key_file": secret, "relay_enabled": False, "inbound_enabled": False}
        )
    )
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://silta.test") as client:
            yield client


async def test_instances_with_one_secret_accept_each_others_sessions(
    api: httpx.AsyncClient, settings: Settings, token_for: Callable[..., str], tmp_path: Path
) -> None:
    """A cookie issued by one instance opens the console on another with the same secret, not on one without it."""
    await signed_in(api, token_for("silta-operator"))
    cookie = {"Cookie": f"{COOKIE}={api.cookies[COOKIE]}"}
    foreign = tmp_path / "other-console-session.key"
    foreign.write_bytes(b"f" * 32)
    async with _instance(settings, settings.console_session_key_file) as same:
        assert (await same.get("/console", headers=cookie)).status_code == 200
    async with _instance(settings, foreign) as other:
        refused = await other.get("/console", headers=cookie)
    assert refused.status_code == 401
    assert refused.json()["code"] == "console-session-missing"


async def test_a_signed_out_session_stays_out(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """After sign-out, the session's cookie, sent again (say from a copy), is refused with 401."""
    csrf = await signed_in(api, token_for("silta-operator"))
    cookie = {"Cookie": f"{COOKIE}={api.cookies[COOKIE]}"}
    assert (await api.post("/console/sign-out", data={"csrf_token": csrf})).status_code == 303
    api.cookies.clear()
    again = await api.get("/console", headers=cookie)
    assert again.status_code == 401
    assert again.json()["code"] == "console-session-missing"


async def test_sign_in_needs_the_forms_own_token(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """A sign-in POST without the form's pre-session cookie and matching token (login CSRF) is 403; no session."""
    token = token_for("silta-operator")
    bare = await api.post("/console/sign-in", data={"token": token})
    form_token = await sign_in_token(api)
    wrong = await api.post("/console/sign-in", data={"token": token, "sign_in_token": "x" + form_token})
    api.cookies.clear()  # a cross-site POST carries the token it read elsewhere, but not this browser's cookie
    cookieless = await api.post("/console/sign-in", data={"token": token, "sign_in_token": form_token})
    for answer in (bare, wrong, cookieless):
        assert answer.status_code == 403
        assert answer.json()["code"] == "csrf-token-invalid"
        assert COOKIE + "=" not in answer.headers.get("set-cookie", "")
