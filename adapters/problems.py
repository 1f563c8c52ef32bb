"""RFC 9457 problem documents for rejections."""

from __future__ import annotations

from typing import Any

from broker.domain.errors import Rejection

PROBLEM_TYPE_BASE = "urn:fi:silta:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


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
