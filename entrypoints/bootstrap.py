"""The composition root: settings, database, Kafka, keys and use cases are put together here, and only here.

Nothing connects at import time. `build_runtime` wires everything unconnected;
`Runtime.start` and `Runtime.stop` run and end the background parts (group
commit, relay, inbound consumer, overdue watch) from the app's lifespan.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from broker.audit.pseudonym import Pseudonymiser
from broker.crypto.assertions import AssertionVerifier
from broker.crypto.ids import MessageIds
from broker.crypto.jwks import token_keys
from broker.crypto.keyring import LiveKeyRing
from broker.crypto.tokens import TokenVerifier
from broker.domain.clock import Clock, SystemClock
from broker.domain.routing import MunicipalityTable
from broker.kafka.credentials import silta_connection
from broker.kafka.inbound import InboundConsumer
from broker.kafka.publisher import KafkaPublisher
from broker.kafka.refusals import note_if_refused, watch_aiokafka_refusals
from broker.kafka.topics import ensure_topics
from broker.pipeline import MessagePipeline
from broker.policy.model import load_policies
from broker.services.attachment_desk import AttachmentDesk
from broker.services.checkpoints import CheckpointJob
from broker.services.data_subject import DataSubjectQuery
from broker.services.guardians import GuardianDesk
from broker.services.inbound import OrganiserRecordIntake
from broker.services.intake import MessageIntake
from broker.services.kela_inbox import KelaInbox
from broker.services.mandate_registry import MandateRegistry
from broker.services.overdue import OverdueSweep, OverdueWatch
from broker.services.party_keys import PartyKeyRegistry, RecordSeals
from broker.services.receipts import ReceiptWriter
from broker.services.record_processing import RecordProcessor, RetryPolicy
from broker.services.registry import ServiceLayer
from broker.services.relay import OutboxRelay
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from broker.store.group_commit import GroupCommitter
from broker.store.outbox_signal import OutboxSignal, listener_dsn
from broker.xml.safe_parse import ParseLimits
from broker.xml.validation import SchemaRegistry
from entrypoints.audit_anchor import checkpoint_job

log = structlog.get_logger(__name__)


def municipality_table() -> MunicipalityTable:
    """The 2025 municipality → organiser table shipped with the package."""
    return MunicipalityTable.shipped()


@functools.cache
def compiled_schemas(schema_dir: Path) -> SchemaRegistry:
    """Every live schema compiled (twice: libxml2 and xmlschema), once per folder and process.

    Compiling takes seconds and the XSDs ship with the code, read-only while it
    runs, so every pipeline this process builds (each app, each test) shares them.
    """
    return SchemaRegistry(schema_dir)


def build_pipeline(settings: Settings, clock: Clock | None = None) -> MessagePipeline:
    """The pipeline's stages from the schema and policy folders."""
    return MessagePipeline(
        schemas=compiled_schemas(settings.schema_dir.resolve()),
        policies=load_policies(settings.policy_dir),
        municipalities=municipality_table(),
        limits=ParseLimits(settings.max_message_bytes, settings.max_xml_depth),
        pseudonyms=Pseudonymiser.from_file(settings.pseudonym_key_file),
        clock=clock or SystemClock(),
    )


@dataclass
class Runtime:
    """The wired application: the service layer and the background parts it needs running."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    """For the CLI and tests that inspect the store; the service layer uses units of work."""
    services: ServiceLayer
    committer: GroupCommitter
    publisher: KafkaPublisher
    relay: OutboxRelay
    inbound: InboundConsumer
    overdue: OverdueWatch
    checkpoints: CheckpointJob
    signal: OutboxSignal | None = None
    """LISTEN/NOTIFY between instances (PostgreSQL only)."""
    _kafka_side: asyncio.Task[None] | None = None

    @property
    def pipeline(self) -> MessagePipeline:
        """The pipeline the service layer uses."""
        return self.services.pipeline

    async def start(self) -> None:
        """Start group commit, relay and overdue watch; topics and the consumer as soon as Kafka answers."""
        self._kafka_side = asyncio.create_task(self._start_kafka_side(), name="kafka-side-start")
        self.committer.start()
        if self.signal is not None:
            self.signal.start()
        if self.settings.relay_enabled:
            self.relay.start()
        self.overdue.start()
        if self.settings.audit_checkpoint_enabled:
            self.checkpoints.start()

    async def stop(self) -> None:
        """Stop everything in the reverse order and release the connections."""
        if self._kafka_side is not None:
            self._kafka_side.cancel()
            await asyncio.gather(self._kafka_side, return_exceptions=True)
        await self.overdue.stop()
        await self.inbound.stop()
        await self.committer.stop()
        await self.relay.stop()
        if self.signal is not None:
            await self.signal.stop()
        await self.checkpoints.stop()  # after the last log entries are committed, before the engine goes
        await self.publisher.close()
        await self.engine.dispose()

    async def database_ok(self) -> bool:
        """Whether the database answers."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001  any failure means not ready
            return False
        return True

    async def _start_kafka_side(self) -> None:
        """Create the topics (if Silta may), then start consuming organisers' topics, which must exist first."""
        if self.settings.kafka_create_topics:
            await _create_topics_when_possible(self.settings)
        if self.settings.inbound_enabled:
            self.inbound.start()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Every part, unconnected; `Runtime.start` starts them."""
    clock = clock or SystemClock()
    watch_aiokafka_refusals()
    engine = create_async_engine(settings.database_url, pool_pre_ping=True)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    publisher = KafkaPublisher(silta_connection(settings), settings.kafka_request_timeout_ms)
    wake = _Wake()
    units = UnitOfWorkFactory(sessions, clock, wake)
    record_keys = LiveKeyRing(settings.key_dir)
    seals = RecordSeals(record_keys)
    relay = OutboxRelay(units, publisher, seals, settings.relay_batch_size, settings.relay_poll_interval_s)
    wake.relay = relay
    if engine.dialect.name == "postgresql":
        wake.signal = OutboxSignal(listener_dsn(engine.url), relay.wake)
    pipeline = build_pipeline(settings, clock)
    jwks = token_keys(settings)  # one source for tokens and guardian assertions, read again when due
    ids = MessageIds(pipeline.pseudonyms.id_secret)  # version 1's key: a rotation never changes an id
    receipts = ReceiptWriter(ids)
    committer = GroupCommitter(sessions, settings.commit_batch_size, on_commit=wake)
    services = ServiceLayer(
        settings=settings,
        units=units,
        verifier=TokenVerifier(jwks, settings.auth_issuer, settings.auth_audience, settings.clients()),
        pipeline=pipeline,
        intake=MessageIntake(pipeline, units, committer),
        inbox=KelaInbox(pipeline, receipts),
        attachments=AttachmentDesk(settings.max_attachment_bytes),
        guardians=GuardianDesk(
            pipeline,
            AssertionVerifier(jwks, settings.guardian_assertion_issuer, settings.guardian_assertion_audience),
            ids,
            settings.max_attachment_bytes,
        ),
        data_subjects=DataSubjectQuery(pipeline.pseudonyms),
        mandates=MandateRegistry(pipeline.pseudonyms),
        party_keys=PartyKeyRegistry(),
        record_keys=record_keys,
    )
    processor = RecordProcessor(
        units, OrganiserRecordIntake(pipeline, receipts, seals), RetryPolicy(max_attempts=settings.inbound_max_attempts)
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        services=services,
        committer=committer,
        publisher=publisher,
        relay=relay,
        inbound=InboundConsumer(
            silta_connection(settings),
            settings.inbound_group_id,
            processor,
            max_records=settings.inbound_max_records,
            clock=clock,
        ),
        overdue=OverdueWatch(
            units,
            OverdueSweep(receipts, dt.timedelta(hours=settings.receipt_timeout_hours)),
            settings.overdue_check_interval_s,
        ),
        checkpoints=checkpoint_job(settings, units, record_keys),
        signal=wake.signal,
    )


class _Wake:
    """Wakes the relay after outbox rows commit (the relay is built after the units), and other instances' too."""

    relay: OutboxRelay | None = None
    signal: OutboxSignal | None = None

    def __call__(self) -> None:
        if self.relay is not None:
            self.relay.wake()
        if self.signal is not None:
            self.signal.announce()


async def _create_topics_when_possible(settings: Settings) -> None:
    delay = 1.0
    while True:
        try:
            created = await ensure_topics(
                silta_connection(settings),
                settings.kafka_topic_partitions,
                settings.kafka_replication_factor,
                min_insync_replicas=settings.kafka_min_insync_replicas,
            )
            log.info("kafka_topics_ready", created=len(created))
            return
        except Exception as error:  # noqa: BLE001  Kafka may be down at start-up; accepting goes on regardless
            note_if_refused("topic-admin", error)
            log.warning("kafka_topics_not_ready", error=repr(error), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
