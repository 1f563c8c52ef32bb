"""Attachments by claim check: store once by SHA-256, check manifests, decide who may fetch.

A message may reference only attachments Silta holds, and its manifest entry
(media type, size, hash) must match what is held. The sender and the
recipients of a message that references an attachment may fetch it, and the
party that uploaded it; nobody else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.attachments import ALLOWED_MEDIA_TYPES, AttachmentRef
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.store.tables import Attachment, MessageAttachment, MessageRecord

_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}


def check_upload(content: bytes, media_type: str, max_bytes: int) -> None:
    """An upload must be non-empty, within the size limit, of an allowed type, and look like that type."""
    if media_type not in ALLOWED_MEDIA_TYPES:
        allowed = ", ".join(sorted(ALLOWED_MEDIA_TYPES))
        raise Rejection(ErrorCode.ATTACHMENT_MEDIA_TYPE, f"{media_type or 'no type'} is not allowed; use {allowed}")
    if not content:
        raise Rejection(ErrorCode.REQUEST_INVALID, "the attachment is empty", [ErrorItem("/", "no content")])
    if len(content) > max_bytes:
        raise Rejection(ErrorCode.BODY_TOO_LARGE, f"the attachment is over {max_bytes} bytes")
    signatures = _SIGNATURES.get(media_type)
    if signatures is not None and not content.startswith(signatures):
        raise Rejection(ErrorCode.ATTACHMENT_MEDIA_TYPE, f"the content is not {media_type}")


async def store_attachment(
    session: AsyncSession, content: bytes, media_type: str, uploader: str, at: dt.datetime
) -> Attachment:
    """Keep the content once; the same content uploaded again is the same attachment."""
    attachment_id = hashlib.sha256(content).hexdigest()
    existing = await session.get(Attachment, attachment_id)
    if existing is not None and existing.content is not None:
        return existing
    if existing is not None:  # purged earlier and uploaded again
        existing.content, existing.purged_at = content, None
        return existing
    attachment = Attachment(
        attachment_id=attachment_id,
        media_type=media_type,
        size=len(content),
        content=content,
        uploaded_by=uploader,
        uploaded_at=at,
    )
    session.add(attachment)
    return attachment


async def check_manifest(session: AsyncSession, refs: Sequence[AttachmentRef]) -> None:
    """Every referenced attachment is held and matches its manifest entry, or a `Rejection` names each fault."""
    if not refs:
        return
    rows = await session.execute(
        select(Attachment).where(Attachment.attachment_id.in_({r.attachment_id for r in refs}))
    )
    held = {a.attachment_id: a for a in rows.scalars()}
    errors = [problem for ref in refs if (problem := _mismatch(ref, held.get(ref.attachment_id))) is not None]
    if errors:
        code = (
            ErrorCode.ATTACHMENT_UNKNOWN
            if all("not held" in e.reason for e in errors)
            else ErrorCode.ATTACHMENT_MISMATCH
        )
        raise Rejection(code, "the attachment manifest does not match the attachments Silta holds", errors)


def _mismatch(ref: AttachmentRef, held: Attachment | None) -> ErrorItem | None:
    if held is None or held.content is None:
        return ErrorItem(f"{ref.path}/AttachmentId", "not held by Silta: upload it first (the id is its SHA-256)")
    if ref.sha256 != held.attachment_id:
        return ErrorItem(f"{ref.path}/Sha256", "does not match the attachment's content")
    if ref.size != held.size:
        return ErrorItem(f"{ref.path}/Size", f"the attachment has {held.size} bytes")
    if ref.media_type != held.media_type:
        return ErrorItem(f"{ref.path}/MediaType", f"the attachment is {held.media_type}")
    return None


async def fetchable(session: AsyncSession, attachment_id: str, party: str) -> Attachment | None:
    """The attachment if `party` uploaded it or sent or received a message that references it; else None."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.content is None:
        return None
    if attachment.uploaded_by == party:
        return attachment
    referenced = exists().where(
        MessageAttachment.attachment_id == attachment_id,
        MessageAttachment.message_id == MessageRecord.message_id,
        (MessageRecord.sender == party) | (MessageRecord.recipient == party),
    )
    allowed = (await session.execute(select(referenced))).scalar()
    return attachment if allowed else None
