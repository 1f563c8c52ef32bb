"""The request id: the caller's plain `X-Request-Id` echoed, anything else replaced by a fresh one."""

from __future__ import annotations

import uuid

import httpx
import pytest

from broker.settings import Settings
from entrypoints.api import create_app


async def _echoed(headers: dict[str, str]) -> str:
    """The `X-Request-Id` the app answers a GET /docs with."""
    app = create_app(Settings(log_json=False, log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://silta.test") as client:
        answer = await client.get("/docs", headers=headers)
    assert answer.status_code == 200
    return answer.headers["X-Request-Id"]


async def test_a_plain_request_id_is_echoed() -> None:
    """An X-Road-style id of letters, digits and punctuation comes back unchanged."""
    assert await _echoed({"X-Request-Id": "FI/GOV/0245437-2/kela:abc-123"}) == "FI/GOV/0245437-2/kela:abc-123"


@pytest.mark.parametrize("given", [None, "", "x" * 129, "line\tbreak", '{"json": 1}'])
async def test_a_missing_or_odd_request_id_is_replaced_by_a_uuid(given: str | None) -> None:
    """Absent, empty, too long or with characters that could forge log fields: a fresh UUID instead."""
    echoed = await _echoed({} if given is None else {"X-Request-Id": given})
    assert str(uuid.UUID(echoed)) == echoed


async def test_the_x_road_id_is_the_request_id_and_echoed() -> None:
    """A call through a security server is known by its `X-Road-Id`, echoed as it came and as the request id."""
    app = create_app(Settings(log_json=False, log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://silta.test") as client:
        answer = await client.get("/docs", headers={"X-Road-Id": "xrd-42", "X-Request-Id": "other"})
    assert answer.status_code == 200
    assert answer.headers["X-Road-Id"] == answer.headers["X-Request-Id"] == "xrd-42"


async def test_a_bad_x_road_header_is_a_400_problem_that_does_not_repeat_it() -> None:
    """An X-Road header out of form is answered 400 `x-road-header-invalid` before any route; its value not echoed."""
    app = create_app(Settings(log_json=False, log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://silta.test") as client:
        answer = await client.get("/docs", headers={"X-Road-Client": "FI/GOV/<script>"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "x-road-header-invalid"
    assert "<script>" not in answer.text
    assert "X-Road-Id" not in answer.headers
    assert str(uuid.UUID(answer.headers["X-Request-Id"])) == answer.headers["X-Request-Id"]
