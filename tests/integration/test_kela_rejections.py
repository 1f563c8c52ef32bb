"""Kela sees its own REST rejections (`GET /kela/v1/rejections`): code, route, body hash; no body, no other party."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

_IDENTITY_CODE = "150288-952P"  # a test identity code (individual number 952)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refuse_kela_xml(api: httpx.AsyncClient, token: str, body: bytes, request_id: str) -> None:
    headers = {**_auth(token), "Content-Type": "application/xml", "X-Request-Id": request_id}
    assert (await api.post("/kela/v1/messages", content=body, headers=headers)).status_code == 400


async def _page(api: httpx.AsyncClient, token: str, **params: str) -> tuple[list[dict[str, Any]], int | None]:
    """One page of the caller's rejections and its `next_after`."""
    answer = await api.get("/kela/v1/rejections", params=params, headers=_auth(token))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"], answer.json()["next_after"]


async def _listed(api: httpx.AsyncClient, token: str, **params: str) -> list[dict[str, Any]]:
    return (await _page(api, token, **params))[0]


async def _organiser_refused(api: httpx.AsyncClient, token: str) -> str:
    """hva-08 uploads a "PDF" without the PDF signature; the code it was refused with."""
    headers = {**_auth(token), "Content-Type": "application/pdf"}
    refused = await api.post("/attachments", content=b"not a pdf", headers=headers)
    assert refused.status_code == 415, refused.text
    code: str = refused.json()["code"]
    return code


async def test_kela_sees_why_its_message_was_refused_but_never_the_body(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Broken XML naming a person: Kela's list has its code, route, size and SHA-256, no body, no identity code."""
    body = f"<Message><Subject>{_IDENTITY_CODE}</Subject>".encode()
    await _refuse_kela_xml(api, token_for("kela"), body, "req-kela-rej-1")
    [item] = await _listed(api, token_for("kela"))
    assert (item["method"], item["route"], item["status"], item["code"]) == (
        "POST",
        "/kela/v1/messages",
        400,
        "xml-not-well-formed",
    )
    assert (item["client_id"], item["request_id"]) == ("kela", "req-kela-rej-1")
    assert (item["body_size"], item["body_sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert _IDENTITY_CODE not in str(item)
    assert "body" not in item


async def test_another_partys_rejection_is_not_on_kelas_list(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """An organiser's refused upload is kept, but neither Kela nor an operator on Kela's route sees it."""
    code = await _organiser_refused(api, token_for("hva-08-case-system"))
    await _refuse_kela_xml(api, token_for("kela"), b"<broken", "req-kela-rej-2")
    for client in ("kela", "silta-operator"):
        codes = [i["code"] for i in await _listed(api, token_for(client))]
        assert codes == ["xml-not-well-formed"], client
    admin = await api.get("/admin/v1/rejections", params={"reason": code}, headers=_auth(token_for("silta-operator")))
    assert [i["caller_party"] for i in admin.json()["items"]] == ["hva-08"]


async def test_kelas_rejections_filter_by_code_and_time_and_page_by_id(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Two refusals: `code` picks one, a window after now none, `limit=1` pages through both with `next_after`."""
    kela = token_for("kela")
    await _refuse_kela_xml(api, kela, b"<broken", "req-kela-rej-3")
    refused = await api.post("/kela/v1/messages", content=b"<x/>", headers={**_auth(kela), "Content-Type": "text/csv"})
    assert refused.status_code == 415
    assert [i["status"] for i in await _listed(api, kela, code="unsupported-media-type")] == [415]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    assert await _listed(api, kela, since=later) == []
    assert len(await _listed(api, kela, until=later)) == 2
    first, after = await _page(api, kela, limit="1")
    second, _ = await _page(api, kela, limit="1", after=str(after))
    assert [i["code"] for i in first + second] == ["xml-not-well-formed", "unsupported-media-type"]


async def test_a_bare_number_or_a_backwards_range_is_refused_with_its_code(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """`since=1700000000` is 400 `time-invalid` (no epoch seconds); `until` before `since` 400 `time-range-invalid`."""
    kela = _auth(token_for("kela"))
    bare = await api.get("/kela/v1/rejections", params={"since": "1700000000"}, headers=kela)
    assert (bare.status_code, bare.json()["code"]) == (400, "time-invalid")
    backwards = {"since": "2026-12-03T10:00:00Z", "until": "2026-12-02T10:00:00Z"}
    answer = await api.get("/kela/v1/rejections", params=backwards, headers=kela)
    assert (answer.status_code, answer.json()["code"]) == (400, "time-range-invalid")
