"""The services the channels call, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from broker.crypto.assertions import AssertionVerifier
from broker.crypto.tokens import TokenVerifier
from broker.kafka.inbound import InboundConsumer
from broker.kafka.publisher import KafkaPublisher
from broker.pipeline import MessagePipeline
from broker.services.overdue import OverdueWatch
from broker.services.relay import OutboxRelay
from broker.settings import Settings
from broker.store.group_commit import GroupCommitter


@dataclass
class Services:
    """Everything a request handler may use; handed down from the app's lifespan."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    pipeline: MessagePipeline
    committer: GroupCommitter
    verifier: TokenVerifier
    assertions: AssertionVerifier
    publisher: KafkaPublisher
    relay: OutboxRelay
    inbound: InboundConsumer
    overdue: OverdueWatch
