"""Path parameters as the routes check them: the patterns are enforced and stated in the OpenAPI document.

A value that cannot be an id (a NUL, a slash, a megabyte) is refused as 422
`request-invalid` before any route code or database query sees it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

MessageId = Annotated[str, Path(pattern=UUID_PATTERN, description="A message id: a UUID, lower case")]
AttachmentId = Annotated[str, Path(pattern=SHA256_PATTERN, description="An attachment id: its SHA-256, lower-case hex")]
PrincipalRef = Annotated[
    str, Path(pattern=UUID_PATTERN, description="The opaque reference to a principal under one mandate (a UUID)")
]
RequestId = Annotated[str, Path(pattern=UUID_PATTERN, description="The message id of an open information request")]
