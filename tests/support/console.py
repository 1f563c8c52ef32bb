"""Signing in to the operator console as a browser does: the form first (its pre-session cookie), then the POST."""

from __future__ import annotations

import re

import httpx


async def sign_in_token(api: httpx.AsyncClient) -> str:
    """Open the sign-in form (which sets the pre-session cookie) and return the form's token."""
    form = await api.get("/console/sign-in")
    found = re.search(r'name="sign_in_token" value="([^"]+)"', form.text)
    assert found is not None, form.text
    return found.group(1)


async def sign_in(api: httpx.AsyncClient, token: str) -> httpx.Response:
    """Sign in with a bearer token through the form; the answer (303 to /console when it worked)."""
    return await api.post("/console/sign-in", data={"token": token, "sign_in_token": await sign_in_token(api)})


async def signed_in(api: httpx.AsyncClient, token: str) -> str:
    """Sign in and return the CSRF token of the pages' POSTs."""
    answer = await sign_in(api, token)
    assert answer.status_code == 303, answer.text
    page = await api.get("/console")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
