"""Attachments travel by claim check: the message carries a reference, Silta keeps the content once."""

from __future__ import annotations

from dataclasses import dataclass

ALLOWED_MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/tiff", "text/plain"})
"""What Silta stores: documents and scans, nothing executable or scriptable."""


@dataclass(frozen=True)
class AttachmentRef:
    """One entry of a message's manifest and where it is in the document."""

    attachment_id: str
    media_type: str
    size: int
    sha256: str
    path: str
