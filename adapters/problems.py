"""RFC 9457 problem documents for rejections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from broker.domain.errors import ErrorCode, ErrorItem, Rejection

PROBLEM_TYPE_BASE = "urn:fi:silta:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_REALM = 'Bearer realm="silta"'


def problem_document(rejection: Rejection, instance: str | None = None) -> dict[str, Any]:
    """The JSON body for a rejection: type, title, status, detail, code and the errors."""
    document: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + rejection.code,
        "title": rejection.title,
        "status": rejection.status,
        "detail": rejection.detail,
        "code": str(rejection.code),
    }
    if rejection.errors:
        document["errors"] = [{"path": e.path, "reason": e.reason} for e in rejection.errors]
    if instance:
        document["instance"] = instance
    return document


def bearer_challenge(rejection: Rejection) -> str | None:
    """The `WWW-Authenticate` header of a 401 (RFC 6750 3.1): `invalid_token` for a token that was refused.

    A missing token gets the bare challenge, as does a 401 about the guardian assertion; other statuses none.
    """
    if rejection.status != HTTPStatus.UNAUTHORIZED:
        return None
    return f'{_REALM}, error="invalid_token"' if rejection.code is ErrorCode.TOKEN_INVALID else _REALM


# What the framework itself refuses before a route runs, by HTTP status.
_FRAMEWORK_CODES = {
    400: ErrorCode.JSON_NOT_WELL_FORMED,  # FastAPI: "There was an error parsing the body" (e.g. not UTF-8)
    404: ErrorCode.ROUTE_NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
}
_DETAILS = {
    ErrorCode.JSON_NOT_WELL_FORMED: "the body is not well-formed JSON in UTF-8",
    ErrorCode.ROUTE_NOT_FOUND: "no route serves this path",
    ErrorCode.METHOD_NOT_ALLOWED: "the route does not serve this method; see the Allow header",
    ErrorCode.BODY_TOO_LARGE: "the body is too large",
}


def framework_rejection(status: int) -> Rejection | None:
    """The rejection for an HTTP error the framework raised (unknown route, wrong method, unparsable body)."""
    code = _FRAMEWORK_CODES.get(status)
    return None if code is None else Rejection(code, _DETAILS[code])


def framework_problem_document(status: int, title: str) -> dict[str, Any]:
    """A problem document for an HTTP error with no code of its own; its code is `http-<status>`."""
    code = f"http-{status}"
    return {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": title, "code": code}


def validation_rejection(errors: Sequence[Any]) -> Rejection:
    """The rejection for FastAPI's validation errors: JSON that does not parse is 400, the rest 422.

    The errors name paths and reasons, never the input's values.
    """
    found = [error for error in errors if isinstance(error, Mapping)]
    items = [ErrorItem(_location(error), _reason(error)) for error in found]
    if any(error.get("type") == "json_invalid" for error in found):
        return Rejection(ErrorCode.JSON_NOT_WELL_FORMED, "the body is not well-formed JSON", items)
    return Rejection(ErrorCode.REQUEST_INVALID, "the request's parameters or JSON body are not valid", items)


def _location(error: Mapping[str, object]) -> str:
    location = error.get("loc", ())
    return "/" + "/".join(str(part) for part in location) if isinstance(location, tuple | list) else "/"


def _reason(error: Mapping[str, object]) -> str:
    context = error.get("ctx")
    if error.get("type") == "json_invalid" and isinstance(context, Mapping) and "error" in context:
        return str(context["error"])
    return str(error.get("msg", "invalid"))
