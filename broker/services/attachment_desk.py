"""Attachments over any channel: upload once (claim check), fetch as a party of a message that references it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from broker.crypto.tokens import Caller
from broker.domain.disclosure import DisclosureFacts, Pseudonym, UsageEntry
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.xroad import XRoadCall
from broker.services.attachments import check_upload, fetchable, store_attachment
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import append_entries
from broker.store.tables import MessageAttachment, MessageRecord

_FETCH_PURPOSE = "read an attachment of a message the party sent or received"


@dataclass(frozen=True)
class HeldAttachment:
    """An attachment Silta holds, as its uploader or a party of a referencing message sees it."""

    attachment_id: str
    media_type: str
    size: int
    content: bytes


class AttachmentDesk:
    """The use cases "upload an attachment" and "fetch an attachment"."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes

    async def upload(self, uow: UnitOfWork, caller: Caller, content: bytes, media_type: str) -> HeldAttachment:
        """Keep the content once by its SHA-256; the same content uploaded again is the same attachment."""
        check_upload(content, media_type, self._max_bytes)
        stored = await store_attachment(uow.session, content, media_type, caller.party, uow.now)
        return HeldAttachment(stored.attachment_id, stored.media_type, stored.size, content)

    async def fetch(
        self, uow: UnitOfWork, caller: Caller, attachment_id: str, via: XRoadCall | None = None
    ) -> HeldAttachment:
        """The content for a party that may have it (the fetch is usage-logged); to anyone else it does not exist."""
        attachment = await fetchable(uow.session, attachment_id, caller.party)
        if attachment is None or attachment.content is None:
            raise Rejection(ErrorCode.ATTACHMENT_NOT_FOUND, f"no attachment {attachment_id[:64]} that you may fetch")
        subject = await _data_subject(uow, attachment_id, caller.party)
        usage = UsageEntry(
            subject,
            caller.client_id,
            caller.party,
            _FETCH_PURPOSE,
            ("attachment",),
            {"attachment_id": attachment_id, **(via or XRoadCall()).usage_details()},
        )
        await append_entries(uow.session, "usage", [usage.log_entry()], uow.now)
        return HeldAttachment(attachment.attachment_id, attachment.media_type, attachment.size, attachment.content)


async def _data_subject(uow: UnitOfWork, attachment_id: str, party: str) -> Pseudonym | None:
    """Whose data the attachment is: the data subject of a message of this party's that references it."""
    rows = await uow.session.execute(
        select(MessageRecord.disclosure)
        .join(MessageAttachment, MessageAttachment.message_id == MessageRecord.message_id)
        .where(MessageAttachment.attachment_id == attachment_id)
        .where((MessageRecord.sender == party) | (MessageRecord.recipient == party))
        .limit(1)
    )
    return DisclosureFacts.from_json(rows.scalar()).subject_pseudonym()
