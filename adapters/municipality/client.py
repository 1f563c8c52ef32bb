"""An async client for an organiser's case system: consume `silta.to.<org>.v1`.

Each record is parsed safely, validated against its XSD and handed over as a
typed message. The offset is committed only when the case system acknowledges
the delivery, so a crash before that means the record comes again: a case
system deduplicates on `message_id`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.municipality.contract import HEADER_MESSAGE_ID, consumer_group, inbound_topic
from adapters.municipality.messages import (
    ApplicationTransfer,
    SiltaMessage,
    application_transfer_from_xml,
    silta_message_from_xml,
)
from broker.crypto.signing import verify_record
from broker.domain.catalogue import APPLICATION_TRANSFER
from broker.domain.errors import ErrorCode, Rejection
from broker.kafka.connection import KafkaConnection
from broker.settings import PROJECT_ROOT
from broker.xml.safe_parse import ParseLimits, parse_untrusted
from broker.xml.validation import SchemaRegistry


@dataclass(frozen=True)
class InvalidRecord:
    """A record that is not a valid Silta message; `rejection` says why."""

    message_id: str | None
    rejection: Rejection


@dataclass(frozen=True)
class Delivery:
    """One record from Silta: the typed message (or why it is invalid) and its position."""

    message: ApplicationTransfer | SiltaMessage | InvalidRecord
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str] = field(default_factory=dict)


class OrganiserClient:
    """Consumes an organiser's inbound topic in a consumer group, committing after processing."""

    def __init__(
        self,
        org: str,
        connection: KafkaConnection,
        *,
        group_id: str | None = None,
        schema_dir: Path = PROJECT_ROOT / "schemas",
        from_beginning: bool = True,
        commit_every: int = 1,
        verify_key: Ed25519PublicKey | None = None,
    ) -> None:
        self.org = org
        self._verify_key = verify_key
        self._commit_every = commit_every
        self._acked: dict[TopicPartition, int] = {}
        self._unflushed = 0
        self._schemas = SchemaRegistry(schema_dir)
        self._limits = ParseLimits()
        self._consumer = AIOKafkaConsumer(
            inbound_topic(org),
            **connection.client_options(),
            group_id=group_id or consumer_group(org),
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
        )

    async def __aenter__(self) -> OrganiserClient:
        await self._consumer.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.flush()
        finally:
            await self._consumer.stop()

    async def deliveries(self) -> AsyncIterator[Delivery]:
        """Every record as it arrives; call `ack` on each once it is processed."""
        async for record in self._consumer:
            yield self._delivery(record)

    async def ack(self, delivery: Delivery) -> None:
        """Mark the delivery processed; its offset is committed now or, with `commit_every` > 1, soon.

        Until the commit, a crash means the delivery comes again (at least once).
        """
        self._acked[TopicPartition(delivery.topic, delivery.partition)] = delivery.offset + 1
        self._unflushed += 1
        if self._unflushed >= self._commit_every:
            await self.flush()

    async def flush(self) -> None:
        """Commit every acknowledged offset."""
        if self._acked:
            offsets = {tp: OffsetAndMetadata(offset, "") for tp, offset in self._acked.items()}
            self._acked, self._unflushed = {}, 0
            await self._consumer.commit(offsets)

    def _delivery(self, record: ConsumerRecord[bytes, bytes]) -> Delivery:
        key = record.key.decode() if record.key is not None else None
        headers = {name: value.decode(errors="replace") for name, value in record.headers}
        return Delivery(self._decode(record), record.topic, record.partition, record.offset, key, headers)

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> ApplicationTransfer | SiltaMessage | InvalidRecord:
        headers = {name: value.decode(errors="replace") for name, value in record.headers}
        if self._verify_key is not None and not verify_record(self._verify_key, headers, record.value or b""):
            rejection = Rejection(ErrorCode.SIGNATURE_INVALID, "the record is not signed by Silta, or was altered")
            return InvalidRecord(headers.get(HEADER_MESSAGE_ID), rejection)
        try:
            root = parse_untrusted(record.value or b"", self._limits)
            message_type = self._schemas.message_type_of(root)
            self._schemas.validate(root, message_type)
            if message_type is APPLICATION_TRANSFER:
                return application_transfer_from_xml(root)
            return silta_message_from_xml(root, message_type.name)
        except Rejection as rejection:  # also a value Python cannot hold (value-out-of-range)
            return InvalidRecord(headers.get(HEADER_MESSAGE_ID), rejection)
