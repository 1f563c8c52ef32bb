"""The organisers' case systems: consume with the reference client, deduplicate, answer over Kafka.

Each one reads `silta.to.<org>.v1` with `OrganiserClient` and takes each
message in through the reference client's durable dedup store
(`adapters.municipality.dedup`, an SQLite file per organiser): what the store
lets through is an effect (the ledger counts it; twice is a duplicate), what it
holds back is a transport duplicate absorbed, counted apart. The effect answers
what asks for an answer (a status update for a transfer, a response for Kela's
request to the organiser) inside the store's transaction; only then is the
delivery acknowledged. Sends are retried with the same document, so a retry carries the
same message id.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.municipality.client import Delivery, InvalidRecord, OrganiserClient
from adapters.municipality.dedup import Outcome, ProcessedMessages, handle_once
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
        self._store = ProcessedMessages.sqlite(stage.work / "case-systems" / f"{org}.sqlite")

    async def __aenter__(self) -> CaseSystem:
        await self._store.create()
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
            await self._store.close()

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
        """Take in every delivery through the dedup store (which acknowledges it) until cancelled."""
        async for delivery in self._client.deliveries():
            where = f"{delivery.topic}/{delivery.partition}/{delivery.offset}"

            async def take_in(message: ApplicationTransfer | SiltaMessage, _tx: AsyncConnection) -> None:
                await self._take_in(message, where)  # noqa: B023  awaited within this iteration

            outcome = await handle_once(self._client, self._store, delivery, take_in)
            self._count(outcome, delivery, where)

    def _count(self, outcome: Outcome, delivery: Delivery, where: str) -> None:
        message = delivery.message
        if isinstance(message, InvalidRecord):
            self.ledger.invalid += 1
            log.warning("invalid record %s: %s", message.message_id, message.rejection.code)
        elif outcome is Outcome.DUPLICATE:
            self.ledger.record_absorbed(self.org, message.envelope.message_id, where)

    async def _take_in(self, message: ApplicationTransfer | SiltaMessage, where: str) -> None:
        """The case system's effect of one message the store let through."""
        envelope = message.envelope
        self.ledger.record_effect(self.org, envelope.case_id, envelope.message_id, where)
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
