"""The OpenAPI document states what the API checks: credentials, problem documents, the errors every route shares.

FastAPI documents its own 422 as `application/json` with a schema Silta never
sends; here each refusal is an RFC 9457 problem document, and what every route
shares is added once rather than on each route: the bearer token (and the
guardian assertion on `/guardian/v1`), 401/403 for them, 422 for parameters and
bodies, 400 for JSON bodies that do not parse. Each authenticated operation
names the roles that may call it (`x-silta-roles`, and in its description),
from the role table in `adapters/access.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.access import roles_of
from adapters.http import PROBLEM_RESPONSE
from broker.crypto.assertions import ASSERTION_HEADER

_PUBLIC_PREFIXES = ("/health/", "/.well-known/")
_GUARDIAN_PREFIX = "/guardian/v1/"
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document; `code` is stable, `errors` name paths and reasons, never values.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "reason"],
                "properties": {"path": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA)"},
    "guardianAssertion": {
        "type": "apiKey",
        "in": "header",
        "name": ASSERTION_HEADER,
        "description": "A fresh, single-use assertion by the guardians' portal naming the guardian",
    },
}


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and /openapi.json) answer the document this module completes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = silta_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document


def silta_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document of the app, completed with credentials and problem documents."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _complete(path, operation)
            _state_roles(method, path, operation)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    return document


def _complete(path: str, operation: dict[str, Any]) -> None:
    """One operation: its credentials, and the refusals every route of its kind can give."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses: list[int] = []
    if not path.startswith(_PUBLIC_PREFIXES):
        requirement: dict[str, list[str]] = {"bearerToken": []}
        if path.startswith(_GUARDIAN_PREFIX):
            requirement["guardianAssertion"] = []
        operation.setdefault("security", [requirement])
        statuses += [401, 403]
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append(422)
    if "application/json" in operation.get("requestBody", {}).get("content", {}):
        statuses.append(400)
    for shared in statuses:
        responses.setdefault(str(shared), PROBLEM_RESPONSE)
    for status, response in responses.items():
        if str(status).startswith("4") and "application/json" in response.get("content", {}):
            responses[status] = PROBLEM_RESPONSE  # FastAPI's HTTPValidationError: Silta sends problem documents


def _state_roles(method: str, path: str, operation: dict[str, Any]) -> None:
    """An authenticated operation names the client roles the role table admits, in `x-silta-roles` and in words."""
    if path.startswith(_PUBLIC_PREFIXES):
        return
    roles = sorted(roles_of(method, path))
    operation["x-silta-roles"] = roles
    who = ", ".join(f"`{role}`" for role in roles) or "nobody"
    described = operation.get("description", "").rstrip()
    operation["description"] = f"{described}\n\n**Who may call:** {who} clients (the role table: `docs/access.md`)."
