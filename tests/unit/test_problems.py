"""RFC 9457 problem documents and the error catalogue."""

from __future__ import annotations

from adapters.problems import problem_document
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
