"""Kela's inbox: what organisers sent to Kela, listed after a cursor, read (usage-logged) and receipted.

Reading a message writes the read to the usage log (703/2023 10 §) in the same
unit of work; receipting it sends the organiser Kela's business receipt and
closes the entry, once, however often Kela asks. Silta's own notices (a
deadline's `reminder-due` or `overdue`) are closed without a receipt: Silta
needs none.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.crypto.tokens import Caller
from broker.domain.disclosure import DisclosureFacts, UsageEntry
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.parties import SILTA
from broker.domain.xroad import XRoadCall
from broker.pipeline import MessagePipeline
from broker.services.checks import check_against_store
from broker.services.receipts import ReceiptWriter, business_receipt
from broker.services.unit_of_work import UnitOfWork
from broker.store import inbox
from broker.store.audit_log import append_entries
from broker.store.messages import get_message, insert_accepted
from broker.store.tables import InboxEntry, MessageRecord

_READ_PURPOSE = "handle the client's case at Kela"


@dataclass(frozen=True)
class InboxMessage:
    """One unreceipted message in a party's inbox."""

    cursor: int
    message_id: str
    message_type: str


class KelaInbox:
    """The use cases of Kela's inbox."""

    def __init__(self, pipeline: MessagePipeline, receipts: ReceiptWriter) -> None:
        self._pipeline = pipeline
        self._receipts = receipts

    async def page(self, uow: UnitOfWork, caller: Caller, after: int, limit: int) -> list[InboxMessage]:
        """Unreceipted messages after the cursor, oldest first."""
        items = await inbox.open_items(uow.session, caller.party, after, limit)
        return [InboxMessage(i.seq, i.message_id, i.message_type) for i in items]

    async def read(self, uow: UnitOfWork, caller: Caller, message_id: str, via: XRoadCall | None = None) -> bytes:
        """The message as Kela may receive it; the read goes to the usage log, with the X-Road call it came by."""
        _, message = await _inbox_message(uow, caller, message_id)
        facts = DisclosureFacts.from_json(message.disclosure)
        usage = UsageEntry(
            facts.subject_pseudonym(),
            caller.client_id,
            caller.party,
            _READ_PURPOSE,
            facts.categories,
            {
                "message_id": message.message_id,
                "message_type": message.message_type,
                **(via or XRoadCall()).usage_details(),
            },
        )
        await append_entries(uow.session, "usage", [usage.log_entry()], uow.now)
        return message.body

    async def receipt(self, uow: UnitOfWork, caller: Caller, message_id: str, reference: str | None) -> str:
        """Send the business receipt to the organiser and close the entry; returns the receipt's id."""
        receipt_id = self._receipts.business_receipt_id(message_id)
        # the entry's row lock makes a second, concurrent receipt wait and then find it receipted
        entry, message = await _inbox_message(uow, caller, message_id, lock=True)
        if entry.receipted_at is not None:
            return receipt_id
        if message.sender == SILTA:  # Silta's own notice (a deadline's): nobody to send a business receipt to
            await inbox.mark_receipted(uow.session, entry.seq, receipt_id, uow.now)
            return receipt_id
        document = business_receipt(receipt_id, message_id, message.sender, message.case_id, reference, at=uow.now)
        accepted = await check_against_store(uow.session, self._pipeline.accept(document, caller))
        await insert_accepted(uow.session, [accepted])
        uow.outbox_written()
        await inbox.mark_receipted(uow.session, entry.seq, receipt_id, uow.now)
        return receipt_id


async def _inbox_message(
    uow: UnitOfWork, caller: Caller, message_id: str, *, lock: bool = False
) -> tuple[InboxEntry, MessageRecord]:
    """The caller's inbox entry of a message and the message, or `message-not-found`."""
    entry = await inbox.entry(uow.session, caller.party, message_id, lock=lock)
    message = None if entry is None else await get_message(uow.session, message_id)
    if entry is None or message is None or message.purged_at is not None:
        raise Rejection(ErrorCode.MESSAGE_NOT_FOUND, f"no message {message_id[:64]} in your inbox")
    return entry, message
