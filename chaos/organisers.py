"""The organisers' case systems: consume with the reference client, deduplicate, answer over Kafka.

Each one reads `silta.to.<org>.v1` with `OrganiserClient`, takes each message
in once (a repeat of a message id is a transport duplicate the deduplication
absorbs, counted apart), answers what asks for an answer (a status update for
a transfer, a response for Kela's request to the organiser), and only then
acknowledges. Sends are retried with the same document, so a retry carries the
same message id.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from adapters.municipality.client import Delivery, InvalidRecord, OrganiserClient
from adapters.municipality.messages import ApplicationTransfer, SiltaMessage
from adapters.municipality.sender import OrganiserSender
from broker.domain.errors import Rejection
from chaos.documents import from_organiser, new_id
from chaos.fleet import BrokerFleet, connection
from chaos.ledger import Expected, Ledger
from chaos.stage import Stage

log = logging.getLogger("chaos.organisers")


class CaseSystem:
    """One organiser's case system on the bus."""

    def __init__(self, org: str, stage: Stage, ledger: Ledger) -> None:
        self.org = org
        self.ledger = ledger
        fleet: BrokerFleet = stage.fleet
        keys, silta = stage.organiser_keys(org), stage.silta_keys()
        self._client = OrganiserClient(org, connection(fleet, org), keys, silta, group_id=f"{org}.chaos-case-system")
        self._sender = OrganiserSender(org, connection(fleet, org), keys, silta)

    async def __aenter__(self) -> CaseSystem:
        await self._sender.__aenter__()
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._client.__aexit__(exc_type, exc, tb)
        finally:
            await self._sender.__aexit__(exc_type, exc, tb)

    async def send(self, document: bytes, expected: Expected) -> None:
        """Produce one message to Kela, again with the same document until Kafka acknowledges it."""
        self.ledger.record_sent(expected)
        pause = 0.2
        while True:
            try:
                await self._sender.send(document)
            except Rejection:
                raise
            except Exception as error:  # noqa: BLE001  any transport failure: the same record again
                log.info("send of %s failed (%s); again", expected.message_id, type(error).__name__)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            self.ledger.record_accepted(expected.message_id)
            return

    async def run(self) -> None:
        """Take in every delivery until cancelled."""
        async for delivery in self._client.deliveries():
            await self._take_in(delivery)
            await self._client.ack(delivery)

    async def _take_in(self, delivery: Delivery) -> None:
        message = delivery.message
        if isinstance(message, InvalidRecord):
            self.ledger.invalid += 1
            log.warning("invalid record %s: %s", message.message_id, message.rejection.code)
            return
        envelope = message.envelope
        where = f"{delivery.topic}/{delivery.partition}/{delivery.offset}"
        if not self.ledger.record_seen(self.org, envelope.case_id, envelope.message_id, where):
            return
        if isinstance(message, ApplicationTransfer):
            await self._answer_transfer(envelope.case_id)
        elif message.message_type == "receipt":
            self._note_receipt(message)
        elif message.message_type == "information-request" and message.text("AddressedTo") != "client":
            await self._answer_request(envelope.case_id, envelope.message_id)

    def _note_receipt(self, receipt: SiltaMessage) -> None:
        answered = receipt.envelope.correlation_id or "?"
        if receipt.text("Kind") == "technical":
            self.ledger.technical_receipts[answered].append(receipt.envelope.message_id)
            self.ledger.receipt_outcomes[answered] = receipt.text("Outcome") or "?"

    async def _answer_transfer(self, case_id: str) -> None:
        """The case system took the transfer in: it tells Kela with a status update."""
        message_id = new_id()
        document = from_organiser("status-update", self.org, message_id, case_id)
        await self.send(document, Expected(message_id, "status-update", self.org, "kela", case_id, 0))

    async def _answer_request(self, case_id: str, request_id: str) -> None:
        """The organiser answers Kela's request for further information."""
        message_id = new_id()
        document = from_organiser("information-response", self.org, message_id, case_id, request_id)
        await self.send(document, Expected(message_id, "information-response", self.org, "kela", case_id, 0))
