"""The OpenAPI document states credentials, problem documents and the checked parameter patterns."""

from __future__ import annotations

from typing import Any

import pytest

from broker.settings import Settings
from entrypoints.api import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The app's document; building it connects to nothing."""
    return create_app(Settings(log_json=False)).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(path, op) for path, ops in document["paths"].items() for op in ops.values()]


def test_every_4xx_is_a_problem_document(document: dict[str, Any]) -> None:
    """No operation documents a 4xx as FastAPI's application/json HTTPValidationError."""
    for path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == ["application/problem+json"], (path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "Problem" in document["components"]["schemas"]


def test_credentials_are_stated_where_they_are_checked(document: dict[str, Any]) -> None:
    """Each route but /health and the JWKS needs a bearer token, may answer 401/403; /guardian/v1 also the assertion."""
    for path, operation in _operations(document):
        if path.startswith(("/health/", "/.well-known/")):
            assert "security" not in operation
            continue
        assert {"401", "403"} <= set(operation["responses"]), path
        expected = {"bearerToken", "guardianAssertion"} if path.startswith("/guardian/") else {"bearerToken"}
        assert set(operation["security"][0]) == expected, path


def test_parameters_state_their_patterns(document: dict[str, Any]) -> None:
    """Ids and the inbox cursor carry the patterns the routes enforce; JSON bodies may be 400."""
    inbox = document["paths"]["/kela/v1/inbox"]["get"]
    patterns = {p["name"]: p["schema"].get("pattern") for p in inbox["parameters"]}
    assert patterns["after"] == "^[0-9]{1,18}$"
    receipt = document["paths"]["/kela/v1/inbox/{message_id}/receipt"]["post"]
    assert receipt["parameters"][0]["schema"]["pattern"].startswith("^[0-9a-f]{8}-")
    assert "400" in receipt["responses"]
    upload = document["paths"]["/guardian/v1/principals/{principal_ref}/requests/{request_id}/attachments"]["post"]
    assert set(upload["requestBody"]["content"]) == {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "text/plain",
    }
