"""RFC 9457 problem documents and the error catalogue."""

from __future__ import annotations

from adapters.problems import framework_problem_document, framework_rejection, problem_document, validation_rejection
from broker.domain.errors import ERROR_SPECS, ErrorCode, ErrorItem, Rejection


def test_every_error_code_has_a_status_and_title() -> None:
    """No code can be raised without a defined HTTP status."""
    assert set(ERROR_SPECS) == set(ErrorCode)


def test_problem_document_carries_code_and_errors() -> None:
    """The document has type, title, status, detail, the stable code and each error's path and reason."""
    rejection = Rejection(ErrorCode.SCHEMA_INVALID, "bad", [ErrorItem("/A/B", "missing")])
    assert problem_document(rejection) == {
        "type": "urn:fi:silta:problem:schema-invalid",
        "title": "Message does not match its schema",
        "status": 422,
        "detail": "bad",
        "code": "schema-invalid",
        "errors": [{"path": "/A/B", "reason": "missing"}],
    }


def test_framework_errors_get_stable_codes() -> None:
    """The framework's 400/404/405/413 map to codes of their own; another status has none."""
    codes = {status: framework_rejection(status) for status in (400, 404, 405, 413, 418)}
    assert {status: r.code if r else None for status, r in codes.items()} == {
        400: "json-not-well-formed",
        404: "route-not-found",
        405: "method-not-allowed",
        413: "body-too-large",
        418: None,
    }


def test_an_http_error_without_a_code_is_still_a_problem_document() -> None:
    """A status Silta has no code for is named `http-<status>`."""
    assert framework_problem_document(418, "I'm a Teapot") == {
        "type": "urn:fi:silta:problem:http-418",
        "title": "I'm a Teapot",
        "status": 418,
        "detail": "I'm a Teapot",
        "code": "http-418",
    }


def test_validation_errors_name_paths_not_values() -> None:
    """JSON that does not parse is 400 with the parser's reason; a wrong field is 422 with its path only."""
    broken = validation_rejection([{"type": "json_invalid", "loc": ("body", 1), "msg": "x", "ctx": {"error": "Oops"}}])
    wrong = validation_rejection([{"type": "string_type", "loc": ("body", "a"), "msg": "bad", "input": "secret"}])
    assert (broken.status, broken.errors) == (400, [ErrorItem("/body/1", "Oops")])
    assert (wrong.status, str(wrong.code), wrong.errors) == (422, "request-invalid", [ErrorItem("/body/a", "bad")])
