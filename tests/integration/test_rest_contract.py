"""The REST contract at its edges: odd cursors, malformed JSON, unknown routes are all problem documents."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.integration


def _auth(token: str, content_type: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def _assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert (answer.status_code, answer.headers["content-type"]) == (status, "application/problem+json"), answer.text
    body: dict[str, object] = answer.json()
    assert (body["code"], body["status"], body["type"]) == (code, status, f"urn:fi:silta:problem:{code}")
    return body


@pytest.mark.parametrize(
    "after",
    ["%C2%B3", "%D9%A3", "%EF%BC%91", "", "-1", "%2B1", "1%0A", "1" * 19, "abc"],
    ids=[
        "superscript-three",
        "arabic-indic-three",
        "fullwidth-one",
        "empty",
        "negative",
        "plus",
        "newline",
        "19-digits",
        "letters",
    ],
)
async def test_a_cursor_silta_never_gave_out_is_400(
    api: httpx.AsyncClient, token_for: Callable[..., str], after: str
) -> None:
    """Any cursor but 1-18 ASCII digits (Unicode digits too, which `str.isdigit` accepts) is 400 cursor-invalid."""
    answer = await api.get(f"/kela/v1/inbox?after={after}", headers=_auth(token_for()))
    _assert_problem(answer, 400, "cursor-invalid")


async def test_a_cursor_of_18_digits_is_accepted(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """The longest cursor Silta can give out lists an empty page and keeps the cursor."""
    answer = await api.get("/kela/v1/inbox", params={"after": "9" * 18}, headers=_auth(token_for()))
    assert answer.status_code == 200
    assert answer.json() == {"items": [], "next_cursor": "9" * 18}


@pytest.mark.parametrize("body", [b"{bad", b'{"case_reference": ', b"\xff\xfe", b"[1,"])
async def test_a_malformed_json_body_is_a_400_problem(
    api: httpx.AsyncClient, token_for: Callable[..., str], body: bytes
) -> None:
    """A JSON body that does not parse is 400 json-not-well-formed, not FastAPI's bare `detail`."""
    answer = await api.post(
        f"/kela/v1/inbox/{uuid.uuid4()}/receipt", headers=_auth(token_for(), "application/json"), content=body
    )
    problem = _assert_problem(answer, 400, "json-not-well-formed")
    assert "detail" in problem


async def test_a_json_body_of_the_wrong_shape_is_422(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Well-formed JSON that breaks the model stays 422 request-invalid and names the path."""
    answer = await api.post(
        f"/kela/v1/inbox/{uuid.uuid4()}/receipt",
        headers=_auth(token_for(), "application/json"),
        content=b'{"case_reference": 5}',
    )
    problem = _assert_problem(answer, 422, "request-invalid")
    assert problem["errors"] == [{"path": "/body/case_reference", "reason": "Input should be a valid string"}]


async def test_an_unknown_route_is_a_404_problem(api: httpx.AsyncClient) -> None:
    """A path no route serves is 404 route-not-found as a problem document."""
    _assert_problem(await api.get("/kela/v1/nothing-here"), 404, "route-not-found")


async def test_a_wrong_method_is_a_405_problem(api: httpx.AsyncClient) -> None:
    """A method no route of the path serves is 405 method-not-allowed; Allow names the methods of every route."""
    answer = await api.delete("/kela/v1/messages")
    _assert_problem(answer, 405, "method-not-allowed")
    assert answer.headers["allow"] == "GET, POST"
