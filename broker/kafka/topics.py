"""Create the topics Silta uses, where the deployment lets Silta do it."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from broker.domain.parties import all_organisers


def silta_topics() -> list[str]:
    """Every organiser's `to` and `from` topic, and the dead-letter topic."""
    names = [f"silta.{direction}.{org}.v1" for org in all_organisers() for direction in ("to", "from")]
    return [*names, "silta.dlq.v1"]


async def ensure_topics(bootstrap_servers: str, partitions: int, replication: int) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in silta_topics() if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another instance created them meanwhile
                await admin.create_topics([NewTopic(name, partitions, replication) for name in missing])
        return missing
    finally:
        await admin.close()
