"""REST rejections kept for the operators: route template, code and body hash; never the body or an identity code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.integration

_IDENTITY_CODE = "150288-952P"  # a test identity code (individual number 952)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _rejections(api: httpx.AsyncClient, token: str, **params: str) -> list[dict[str, object]]:
    answer = await api.get("/admin/v1/rejections", params=params, headers=_auth(token))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


async def test_an_invalid_xml_post_is_listed_with_its_code_and_body_hash_but_no_body(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Kela posts broken XML naming a person: the rejection is kept by route template, code, size and SHA-256."""
    body = f"<Message><Subject>{_IDENTITY_CODE}</Subject>".encode()
    headers = {**_auth(token_for("kela")), "Content-Type": "application/xml", "X-Request-Id": "req-dl-1"}
    refused = await api.post("/kela/v1/messages", content=body, headers=headers)
    assert refused.status_code == 400
    [kept] = await _rejections(api, token_for("silta-operator"), reason="xml-not-well-formed")
    assert kept["kind"] == "rest-rejection"
    assert (kept["method"], kept["route"], kept["status"]) == ("POST", "/kela/v1/messages", 400)
    assert (kept["client_id"], kept["caller_party"], kept["request_id"]) == ("kela", "kela", "req-dl-1")
    assert (kept["body_size"], kept["body_sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert _IDENTITY_CODE not in str(kept)
    assert "body" not in kept


async def test_a_refused_token_on_a_party_route_is_kept_by_route_template_not_url(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """No token on an inbox read: kept as `token-missing` on `/kela/v1/inbox/{message_id}`, no caller, no body."""
    message_id = "0b9cf0a4-6a3e-4c51-9a55-0d3b0a1e8c11"
    assert (await api.get(f"/kela/v1/inbox/{message_id}")).status_code == 401
    [kept] = await _rejections(api, token_for("silta-admin"), reason="token-missing")
    assert (kept["route"], kept["client_id"], kept["body_sha256"]) == ("/kela/v1/inbox/{message_id}", None, None)
    assert message_id not in str(kept)


async def test_operator_routes_and_the_console_are_not_kept_as_party_rejections(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A 404 on the admin API itself is no party's rejection: the list stays empty."""
    operator = token_for("silta-operator")
    assert (await api.get("/admin/v1/parked/424242", headers=_auth(operator))).status_code == 404
    assert await _rejections(api, operator) == []
