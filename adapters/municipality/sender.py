"""An organiser's case system sends its messages to Kela: build, validate, produce to `silta.from.<org>.v1`.

The document is checked here first (safe parse, its XSD, sender = this
organiser) so that a case system hears of its own mistakes at once; Silta
checks everything again and answers each record with a technical receipt on
`silta.to.<org>.v1`. The record key is the case id, so everything about one
case keeps its order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from aiokafka import AIOKafkaProducer

from adapters.municipality.contract import HEADER_MESSAGE_ID, HEADER_MESSAGE_TYPE, outbound_topic
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.parties import is_organiser
from broker.kafka.connection import KafkaConnection
from broker.settings import PROJECT_ROOT
from broker.xml.envelope_reader import read_envelope
from broker.xml.safe_parse import ParseLimits, parse_untrusted
from broker.xml.validation import SchemaRegistry


@dataclass(frozen=True)
class SentMessage:
    """Where a sent message landed: its id, topic, partition and offset."""

    message_id: str
    message_type: str
    topic: str
    partition: int
    offset: int


class OrganiserSender:
    """Produces an organiser's messages to Kela (idempotent producer, acks from every replica)."""

    def __init__(self, org: str, connection: KafkaConnection, *, schema_dir: Path = PROJECT_ROOT / "schemas") -> None:
        if not is_organiser(org):
            raise ValueError(f"{org!r} is not an organiser id (hva-01 … hva-21, hva-90)")
        self.org = org
        self._schemas = SchemaRegistry(schema_dir)
        self._producer = AIOKafkaProducer(
            **connection.client_options(), acks="all", enable_idempotence=True, client_id=f"{org}-case-system"
        )

    async def __aenter__(self) -> OrganiserSender:
        await self._producer.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._producer.stop()

    def check(self, document: bytes) -> tuple[str, str, str]:
        """Validate a document for sending; returns (message id, type, case id) or raises `Rejection`."""
        root = parse_untrusted(document, ParseLimits())
        message_type = self._schemas.message_type_of(root)
        self._schemas.validate(root, message_type)
        envelope = read_envelope(root)
        if envelope.sender != self.org:
            raise Rejection(
                ErrorCode.SENDER_MISMATCH,
                f"the envelope names sender {envelope.sender}, but this client sends as {self.org}",
                [ErrorItem(f"/{message_type.root_element}/Envelope/Sender", f"expected {self.org}")],
            )
        return envelope.message_id, message_type.name, envelope.case_id

    async def send(self, document: bytes) -> SentMessage:
        """Validate and produce one message; returns once Kafka has it."""
        message_id, message_type, case_id = self.check(document)
        return await self.send_unchecked(document, message_id, message_type, case_id)

    async def send_unchecked(self, document: bytes, message_id: str, message_type: str, case_id: str) -> SentMessage:
        """Produce a document as it is, without checking it (for tests of Silta's own checks)."""
        topic = outbound_topic(self.org)
        headers = [(HEADER_MESSAGE_ID, message_id.encode()), (HEADER_MESSAGE_TYPE, message_type.encode())]
        metadata = await self._producer.send_and_wait(topic, document, key=case_id.encode(), headers=headers)
        return SentMessage(message_id, message_type, topic, metadata.partition, metadata.offset)
