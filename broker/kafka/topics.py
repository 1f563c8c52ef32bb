"""Create the topics Silta uses, where the deployment lets Silta do it."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from broker.domain.parties import all_organisers
from broker.domain.topics import topic_from, topic_to
from broker.kafka.acls import municipality_parties
from broker.kafka.connection import KafkaConnection

_CREATE_BATCH = 100


def municipality_topics() -> list[str]:
    """`silta.to.kunta-NNN.v1` for every mainland municipality (immigrant notices since 2025)."""
    return [topic_to(party) for party in municipality_parties()]


def silta_topics() -> list[str]:
    """Every organiser's `to` and `from` topic; rejected records are parked in the database, not on a topic."""
    return [name for org in all_organisers() for name in (topic_to(org), topic_from(org))]


async def ensure_topics(connection: KafkaConnection, partitions: int, replication: int) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    Organisers' topics get `partitions`; a municipality's topic gets one, as its volume is small.
    """
    wanted = dict.fromkeys(silta_topics(), partitions) | dict.fromkeys(municipality_topics(), 1)
    admin = AIOKafkaAdminClient(**connection.client_options(), request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        for start in range(0, len(missing), _CREATE_BATCH):
            batch = missing[start : start + _CREATE_BATCH]
            with contextlib.suppress(TopicAlreadyExistsError):  # another instance created them meanwhile
                await admin.create_topics([NewTopic(name, wanted[name], replication) for name in batch])
        return missing
    finally:
        await admin.close()
