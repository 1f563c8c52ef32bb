"""Any string in any path or query parameter of any route: never a 5xx, every 4xx a problem document with a code.

The routes and their parameters come from the app's own OpenAPI document, so a
new route or parameter is fuzzed without touching this test. The app is the
real one, on the real PostgreSQL and Kafka the fixtures start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration
_LONG_POLL = "wait"  # a valid wait holds the request up to 60 s: left out, the run stays short
_PERCENT_JUNK = ["%", "%0", "%00", "%zz", "%C2%B3", "%FF", "%C0%AF", "%2F", "%3F", "%23", "%25", "%0A", "%E2%80%AE"]


@dataclass(frozen=True)
class Operation:
    """One route and method of the OpenAPI document, with the names of its path and query parameters."""

    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]


def operations(app: FastAPI) -> list[Operation]:
    """Every operation the app documents, each with its path and query parameters."""
    found = []
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            found.append(
                Operation(
                    method.upper(),
                    path,
                    tuple(p["name"] for p in parameters if p["in"] == "path"),
                    tuple(p["name"] for p in parameters if p["in"] == "query"),
                )
            )
    return found


def _huge() -> st.SearchStrategy[str]:
    # up to 2,500 characters: encoded, two of them stay under httpx's 64 KiB URL limit (uvicorn's is 16 KiB)
    return st.builds(lambda c, n: c * n, st.characters(codec="utf-8"), st.integers(1_000, 2_500))


# Strings that break parsers: any Unicode, control characters, digits of every script, huge, empty, %-junk.
ANY_STRING: st.SearchStrategy[str] = st.one_of(
    st.text(st.characters(codec="utf-8")),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\x7f\u2028\ufeff\u202e")),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=30),
    st.from_regex(r"\A-?[0-9]{0,30}(\.[0-9]*)?([eE][+-]?[0-9]{1,4})?\Z"),
    st.sampled_from(["", "0", "nan", "inf", "-inf", "1e400", "0x10", "None", "null", "..", "/", "?", "#"]),
    st.lists(st.sampled_from(_PERCENT_JUNK) | st.text(max_size=3), max_size=8).map("".join),
    _huge(),
)


def _encode(value: str, *, raw_percent: bool) -> str:
    """`value` percent-encoded; with `raw_percent` its % signs go as they are, so the server decodes the junk."""
    return quote(value, safe="%" if raw_percent else "")


def _long_poll(query: dict[str, str]) -> bool:
    try:
        seconds = float(query.get(_LONG_POLL, "0"))
    except ValueError:
        return False
    return math.isfinite(seconds) and seconds > 0


@st.composite
def requests(draw: st.DrawFn, ops: list[Operation]) -> tuple[Operation, str]:
    """An operation and a URL with generated strings in its path parameters and some of its query parameters."""
    operation = draw(st.sampled_from(ops))
    raw_percent = draw(st.booleans())
    url = operation.path
    for name in operation.path_params:
        url = url.replace("{" + name + "}", _encode(draw(ANY_STRING), raw_percent=raw_percent))
    query = {name: draw(ANY_STRING) for name in operation.query_params if draw(st.booleans())}
    assume(not _long_poll(query))
    if query:
        url += "?" + "&".join(f"{name}={_encode(value, raw_percent=raw_percent)}" for name, value in query.items())
    return operation, url


def assert_contract(answer: httpx.Response) -> None:
    """No 5xx; a 4xx is `application/problem+json` with a string `code` and its own status."""
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json", answer.text[:500]
        problem: dict[str, Any] = answer.json()
        assert isinstance(problem.get("code"), str)
        assert problem["status"] == answer.status_code


def test_every_route_and_parameter_is_fuzzed(app: FastAPI) -> None:
    """The OpenAPI document yields routes with path and query parameters, so the fuzzing below reaches them."""
    ops = operations(app)
    assert any(op.path_params for op in ops)
    assert any(op.query_params for op in ops)
    assert {op.path for op in ops} >= {
        "/kela/v1/inbox",
        "/kela/v1/inbox/{message_id}/receipt",
        "/attachments/{attachment_id}",
    }


CALLERS = ["anonymous", "kela", "hva-08-case-system", "silta-admin", "guardian-portal"]


@pytest.fixture
def headers_of(
    token_for: Callable[..., str], guardian_headers: Callable[..., dict[str, str]]
) -> Callable[[str], dict[str, str]]:
    """Headers for a caller: none, a valid bearer token, or the portal's token with a fresh guardian assertion."""

    def headers(caller: str) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        if caller == "guardian-portal":
            return guardian_headers("guardian-fuzz")
        return {"Authorization": f"Bearer {token_for(caller)}"}

    return headers


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_no_input_breaks_the_rest_contract(
    app: FastAPI, api: httpx.AsyncClient, headers_of: Callable[[str], dict[str, str]], data: st.DataObject
) -> None:
    """Generated strings in every path and query parameter, with and without credentials, keep the contract."""
    operation, url = data.draw(requests(operations(app)), label="request")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    answer = await api.request(operation.method, url, headers=headers_of(caller))
    assert_contract(answer)
