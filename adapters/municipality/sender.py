"""An organiser's case system sends its messages to Kela: build, validate, produce to `silta.from.<org>.v1`.

The document is checked here first (safe parse, its XSD, sender = this
organiser) so that a case system hears of its own mistakes at once. Then it is
sealed: encrypted to Silta's current key and signed with the organiser's
(`broker.crypto.sealing`). Silta verifies, decrypts and checks everything
again, and answers each record with a technical receipt on
`silta.to.<org>.v1`. The record key is the case id, so everything about one
case keeps its order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from adapters.municipality.contract import outbound_topic
from adapters.municipality.keys import OrganiserKeys, SiltaKeySource
from broker.crypto.sealing import seal
from broker.domain import headers as hdr
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.parties import KELA, is_organiser
from broker.kafka.connection import KafkaConnection
from broker.kafka.publisher import durable_producer
from broker.settings import PROJECT_ROOT
from broker.xml.envelope_reader import read_envelope
from broker.xml.safe_parse import ParseLimits, parse_untrusted
from broker.xml.validation import SchemaRegistry


@dataclass(frozen=True)
class Outgoing:
    """What a record says of the message it carries: in its headers (and in the sealed header), never personal."""

    message_id: str
    message_type: str
    case_id: str
    schema: str = ""
    correlation_id: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """Where a sent message landed: its id, topic, partition and offset."""

    message_id: str
    message_type: str
    topic: str
    partition: int
    offset: int


def outgoing(document: bytes, schemas: SchemaRegistry, org: str) -> Outgoing:
    """Check a document `org` is about to send (safe parse, its XSD, the sender) and say what its record carries."""
    root = parse_untrusted(document, ParseLimits())
    message_type = schemas.message_type_of(root)
    schemas.validate(root, message_type)
    envelope = read_envelope(root)
    if envelope.sender != org:
        raise Rejection(
            ErrorCode.SENDER_MISMATCH,
            f"the envelope names sender {envelope.sender}, but this client sends as {org}",
            [ErrorItem(f"/{message_type.root_element}/Envelope/Sender", f"expected {org}")],
        )
    schema = message_type.schema_header_for(envelope.schema_version)
    return Outgoing(envelope.message_id, message_type.name, envelope.case_id, schema, envelope.correlation_id)


def record_headers(org: str, described: Outgoing) -> dict[str, str]:
    """The headers of `org`'s record to Kela: what tools may read without opening it (nothing personal)."""
    return {
        hdr.MESSAGE_ID: described.message_id,
        hdr.MESSAGE_TYPE: described.message_type,
        hdr.SCHEMA: described.schema,
        hdr.SENDER: org,
        hdr.RECIPIENT: KELA,
        **({hdr.CORRELATION_ID: described.correlation_id} if described.correlation_id else {}),
    }


class OrganiserSender:
    """Produces an organiser's messages to Kela (idempotent producer, acks from every replica)."""

    def __init__(
        self,
        org: str,
        connection: KafkaConnection,
        keys: OrganiserKeys,
        silta: SiltaKeySource,
        *,
        schema_dir: Path = PROJECT_ROOT / "schemas",
    ) -> None:
        if not is_organiser(org):
            raise ValueError(f"{org!r} is not an organiser id (hva-01 … hva-21, hva-90)")
        self.org = org
        self._keys = keys
        self._silta = silta
        self._schemas = SchemaRegistry(schema_dir)
        self._producer = durable_producer(connection, client_id=f"{org}-case-system")

    async def __aenter__(self) -> OrganiserSender:
        await self._producer.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._producer.stop()

    def check(self, document: bytes) -> Outgoing:
        """Validate a document for sending; returns what its record says of it, or raises `Rejection`."""
        return outgoing(document, self._schemas, self.org)

    async def send(self, document: bytes) -> SentMessage:
        """Validate, seal and produce one message; returns once Kafka has it."""
        return await self.send_unchecked(document, self.check(document))

    async def send_unchecked(self, document: bytes, described: Outgoing) -> SentMessage:
        """Seal and produce a document as it is, without checking it (for tests of Silta's own checks)."""
        topic = outbound_topic(self.org)
        headers = record_headers(self.org, described)
        silta = await self._silta.keys()
        sealed_headers, value = seal(topic, headers, document, silta.encryption_key, self._keys.signer)
        kafka_headers = [(name, text.encode()) for name, text in sealed_headers.items()]
        metadata = await self._producer.send_and_wait(
            topic, value, key=described.case_id.encode(), headers=kafka_headers
        )
        return SentMessage(described.message_id, described.message_type, topic, metadata.partition, metadata.offset)
