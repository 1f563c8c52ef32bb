"""The console at /console: sign-in by token, the session cookie, CSRF on every POST, masking, the overview."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from adapters.console.session import mask_identity_codes
from broker.domain.clients import Role

pytestmark = pytest.mark.integration


async def _sign_in(api: httpx.AsyncClient, token: str) -> str:
    """Sign in and return the page's CSRF token."""
    answer = await api.post("/console/sign-in", data={"token": token})
    assert answer.status_code == 303, answer.text
    page = await api.get("/console")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_sign_in_sets_a_strict_http_only_cookie(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An operator token is exchanged for an HttpOnly, SameSite=Strict cookie on /console; pages need it."""
    assert (await api.get("/console")).json()["code"] == "console-session-missing"
    answer = await api.post("/console/sign-in", data={"token": token_for("silta-operator")})
    cookie = answer.headers["set-cookie"].lower()
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
    answer = await api.post("/console/sign-in", data={"token": token_for("kela")})
    assert answer.status_code == 403
    assert answer.json()["code"] == "client-not-allowed"


async def test_a_post_without_the_csrf_token_is_refused(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """A POST with the session cookie but no or a wrong CSRF token is a 403 `csrf-token-invalid`."""
    csrf = await _sign_in(api, token_for("silta-operator"))
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
    await _sign_in(api, token_for("silta-operator"))
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
