"""An async client for an organiser's case system: consume `silta.to.<org>.v1`.

Each record's signature is verified with Silta's published key (it covers the
topic, so a record copied from another organiser's topic fails), then the
payload is decrypted with the organiser's own key, parsed safely, validated
against its XSD and handed over as a typed message. The offset is committed only when the case system acknowledges
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

from adapters.municipality.contract import HEADER_MESSAGE_ID, consumer_group, inbound_topic
from adapters.municipality.keys import OrganiserKeys, SiltaKeySource
from adapters.municipality.messages import (
    ApplicationTransfer,
    SiltaMessage,
    application_transfer_from_xml,
    silta_message_from_xml,
)
from broker.crypto.sealing import decrypt, signature_key_id, verify
from broker.domain import headers as hdr
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
        keys: OrganiserKeys,
        silta: SiltaKeySource,
        *,
        group_id: str | None = None,
        schema_dir: Path = PROJECT_ROOT / "schemas",
        from_beginning: bool = True,
        commit_every: int = 1,
    ) -> None:
        self.org = org
        self._keys = keys
        self._silta = silta
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
            yield await self._delivery(record)

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

    async def _delivery(self, record: ConsumerRecord[bytes, bytes]) -> Delivery:
        key = record.key.decode(errors="replace") if record.key is not None else None
        headers = {name: (value or b"").decode(errors="replace") for name, value in record.headers}
        message = await self._decode(record.topic, headers, record.value or b"")
        return Delivery(message, record.topic, record.partition, record.offset, key, headers)

    async def _open(self, topic: str, headers: dict[str, str], value: bytes) -> bytes:
        """Verify Silta's signature on this topic, then decrypt with this organiser's keys."""
        key_id = signature_key_id(headers)
        public_key = await self._silta.verification_key(key_id)
        if public_key is None:
            raise Rejection(ErrorCode.KEY_UNKNOWN, f"{key_id!r} is not one of Silta's published signing keys")
        verify(topic, headers, value, public_key)
        if headers.get(hdr.RECIPIENT) != self.org:  # Silta signed it, for whom does it say?
            raise Rejection(ErrorCode.SEAL_INVALID, f"a record on {topic} must be addressed to {self.org}")
        return decrypt(headers, value, self._keys.decryption_keys)

    async def _decode(
        self, topic: str, headers: dict[str, str], value: bytes
    ) -> ApplicationTransfer | SiltaMessage | InvalidRecord:
        try:
            plaintext = await self._open(topic, headers, value)
            root = parse_untrusted(plaintext, self._limits)
            message_type = self._schemas.message_type_of(root)
            self._schemas.validate(root, message_type)
            if message_type is APPLICATION_TRANSFER:
                return application_transfer_from_xml(root)
            return silta_message_from_xml(root, message_type.name)
        except Rejection as rejection:  # also a value Python cannot hold (value-out-of-range)
            return InvalidRecord(headers.get(HEADER_MESSAGE_ID), rejection)
        except (ValueError, KeyError, TypeError) as error:  # a record no valid seal could produce
            unreadable = Rejection(ErrorCode.SEAL_INVALID, f"the record cannot be read ({type(error).__name__})")
            return InvalidRecord(headers.get(HEADER_MESSAGE_ID), unreadable)
