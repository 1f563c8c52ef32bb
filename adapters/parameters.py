"""Path parameters as the routes check them: the patterns are enforced and stated in the OpenAPI document.

A value that cannot be an id (a NUL, a slash, a megabyte) is refused as 422
`request-invalid` before any route code or database query sees it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from broker.domain.mandates import SCOPES

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

MessageId = Annotated[str, Path(pattern=UUID_PATTERN, description="A message id: a UUID, lower case")]
AttachmentId = Annotated[str, Path(pattern=SHA256_PATTERN, description="An attachment id: its SHA-256, lower-case hex")]
PrincipalRef = Annotated[
    str, Path(pattern=UUID_PATTERN, description="The opaque reference to a principal under one mandate (a UUID)")
]
RequestId = Annotated[str, Path(pattern=UUID_PATTERN, description="The message id of an open information request")]

# Stated in the document; checked by the routes themselves, which answer with codes of their own
# (identity-code-invalid, mandate-import-invalid) and check what a pattern cannot, such as the check character.
IDENTITY_CODE_PATTERN = r"^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]$"
MANDATE_ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["guardian_id", "principal_identity_code", "scope", "valid_from", "source_reference"],
    "properties": {
        "guardian_id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
        "principal_identity_code": {"type": "string", "pattern": IDENTITY_CODE_PATTERN},
        "scope": {"enum": sorted(SCOPES)},
        "valid_from": {"type": "string", "format": "date"},
        "valid_to": {"type": ["string", "null"], "format": "date"},
        "source_reference": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}
