"""Every rejection on Kela's REST API is an RFC 9457 problem document with its stable code."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from broker.settings import PROJECT_ROOT
from broker.store.messages import get_message
from devinfra.samples import application_transfer
from entrypoints.bootstrap import Runtime

pytestmark = pytest.mark.integration
INVALID = PROJECT_ROOT / "schemas" / "examples" / "invalid"


def _auth(token: str, content_type: str = "application/xml") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


def _assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = answer.json()
    assert body["code"] == code
    assert body["type"] == f"urn:fi:silta:problem:{code}"
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("example", "status", "code"),
    [
        ("not-well-formed", 400, "xml-not-well-formed"),
        ("external-entity", 400, "xml-dtd-forbidden"),
        ("billion-laughs", 400, "xml-dtd-forbidden"),
        ("external-schema-location", 400, "xml-external-reference"),
        ("xinclude", 400, "xml-xinclude-forbidden"),
        ("negative-amount", 422, "schema-invalid"),
        ("identity-code-check-character", 422, "identity-code-invalid"),
        ("case-id-is-identity-code", 422, "case-id-is-identity-code"),
        ("aland-municipality", 422, "unroutable"),
    ],
)
async def test_invalid_examples_get_their_problem(
    api: httpx.AsyncClient, token_for: Callable[..., str], example: str, status: int, code: str
) -> None:
    """Each invalid example is answered with its status and code, and says where the fault is."""
    data = (INVALID / f"application-transfer--{example}.xml").read_bytes()
    body = _assert_problem(await api.post("/kela/v1/messages", headers=_auth(token_for()), content=data), status, code)
    assert body["errors"]


async def test_schema_errors_name_path_and_reason(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """A schema error points at the element: path and reason."""
    data = (INVALID / "application-transfer--negative-amount.xml").read_bytes()
    body = _assert_problem(
        await api.post("/kela/v1/messages", headers=_auth(token_for()), content=data), 422, "schema-invalid"
    )
    assert body["errors"] == [
        {
            "path": "/ApplicationTransfer/CostItems/CostItem[1]/Amount",
            "reason": "value has to be greater or equal than Decimal('0')",
        }
    ]


async def test_identity_code_errors_never_echo_the_code(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """The problem document names the path of a bad identity code, not its value."""
    data = (INVALID / "application-transfer--identity-code-check-character.xml").read_bytes()
    answer = await api.post("/kela/v1/messages", headers=_auth(token_for()), content=data)
    assert "010594Y9033" not in answer.text
    assert answer.json()["errors"][0]["path"] == "/ApplicationTransfer/Applicant/PersonalIdentityCode"


async def test_wrong_content_type_is_415(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """JSON (or anything but XML) is refused as unsupported-media-type."""
    answer = await api.post("/kela/v1/messages", headers=_auth(token_for(), "application/json"), content=b"{}")
    _assert_problem(answer, 415, "unsupported-media-type")


async def test_too_large_is_413(api: httpx.AsyncClient, token_for: Callable[..., str], services: Runtime) -> None:
    """A body over the configured limit is refused as body-too-large before it is parsed."""
    limit = services.settings.max_message_bytes
    answer = await api.post("/kela/v1/messages", headers=_auth(token_for()), content=b"<a>" + b"x" * limit + b"</a>")
    _assert_problem(answer, 413, "body-too-large")


async def test_no_token_is_401(api: httpx.AsyncClient) -> None:
    """No bearer token: 401 token-missing with a WWW-Authenticate challenge."""
    answer = await api.post(
        "/kela/v1/messages", headers={"Content-Type": "application/xml"}, content=application_transfer()
    )
    _assert_problem(answer, 401, "token-missing")
    assert answer.headers["www-authenticate"] == 'Bearer realm="silta"'


async def test_bad_token_is_401(api: httpx.AsyncClient) -> None:
    """A token that does not verify: 401 token-invalid."""
    answer = await api.post("/kela/v1/messages", headers=_auth("not.a.token"), content=application_transfer())
    _assert_problem(answer, 401, "token-invalid")


async def test_organiser_posting_as_kela_is_403(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """An organiser's credential cannot use Kela's send route at all (organisers send over Kafka): 403."""
    answer = await api.post(
        "/kela/v1/messages", headers=_auth(token_for("hva-08-case-system")), content=application_transfer()
    )
    _assert_problem(answer, 403, "client-not-allowed")


async def test_unknown_client_is_403(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """A valid token for a client with no party mapping: 403 client-unknown."""
    answer = await api.post("/kela/v1/messages", headers=_auth(token_for("stranger")), content=application_transfer())
    _assert_problem(answer, 403, "client-unknown")


async def test_a_rejected_document_stores_nothing(
    api: httpx.AsyncClient, token_for: Callable[..., str], services: Runtime
) -> None:
    """Bad input never leaves a half-stored message behind."""
    message_id = str(uuid.uuid4())
    document = application_transfer(message_id, municipality="478")
    await api.post("/kela/v1/messages", headers=_auth(token_for()), content=document)
    async with services.sessions() as session:
        assert await get_message(session, message_id) is None


async def test_openapi_lists_the_kela_routes(api: httpx.AsyncClient) -> None:
    """/openapi.json documents the message and status routes."""
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert {"/kela/v1/messages", "/kela/v1/messages/{message_id}", "/health/ready"} <= set(paths)
