"""Every line the running service writes is one JSON object, request lines carry the request id, no identity code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE, is_valid_identity_code
from devinfra.samples import application_transfer
from tests.e2e.conftest import ServiceProcess

pytestmark = pytest.mark.e2e


async def _traffic(service: ServiceProcess, token: str) -> str:
    """An accepted message, one refused with an identity code in it, an unknown route, a docs page; a request id."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    async with httpx.AsyncClient(base_url=service.base_url) as api:
        assert (await api.post("/kela/v1/messages", headers=headers, content=application_transfer())).status_code == 202
        bad = application_transfer().replace(b"</PersonalIdentityCode>", b"</PersonalIdentityCode><Id>120390-912T</Id>")
        answer = await api.post("/kela/v1/messages", headers={**headers, "X-Request-Id": "e2e-req-1"}, content=bad)
        assert answer.status_code == 422
        assert answer.headers["X-Request-Id"] == "e2e-req-1"
        assert (await api.get("/no/such/route/010594Y9032")).status_code == 404
        assert (await api.get("/docs")).status_code == 200
        generated = (await api.get("/health/live")).headers["X-Request-Id"]
    assert generated
    return generated


def _lines(service: ServiceProcess) -> list[dict[str, Any]]:
    """Every line of the service log, each parsed as a JSON object (a plain-text line fails the test)."""
    parsed = []
    for line in service.log.read_text().splitlines():
        event = json.loads(line)
        assert isinstance(event, dict), line
        parsed.append(event)
    return parsed


async def test_every_log_line_is_json_with_the_request_id_and_no_identity_code(
    service: ServiceProcess, token_for: Callable[..., str]
) -> None:
    """Uvicorn's start, access and stop lines and Silta's own events all parse; the refusal names its request id."""
    service.start(SILTA_LOG_LEVEL="INFO")
    await _traffic(service, token_for())
    service.stop()
    events = _lines(service)
    assert any(event.get("logger", "").startswith("uvicorn.access") for event in events)
    assert any(e.get("request_id") == "e2e-req-1" and e.get("event") == "request_rejected" for e in events)
    access = [e for e in events if e.get("logger") == "uvicorn.access" and e.get("request_id") == "e2e-req-1"]
    assert access, "uvicorn's access line for the refused request carries its request id"
    text = service.log.read_text()
    assert not [code for code in LOOKS_LIKE_IDENTITY_CODE.findall(text) if is_valid_identity_code(code)]
