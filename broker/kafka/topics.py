"""Create the topics Silta uses, where the deployment lets Silta do it."""

from __future__ import annotations

import contextlib
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from broker.domain.parties import all_organisers
from broker.domain.topics import topic_from, topic_to
from broker.kafka.acls import municipality_parties
from broker.kafka.connection import KafkaConnection

log = structlog.get_logger(__name__)

_CREATE_BATCH = 100
MIN_INSYNC_REPLICAS = "min.insync.replicas"


def municipality_topics() -> list[str]:
    """`silta.to.kunta-NNN.v1` for every mainland municipality (immigrant notices since 2025)."""
    return [topic_to(party) for party in municipality_parties()]


def silta_topics() -> list[str]:
    """Every organiser's `to` and `from` topic; rejected records are parked in the database, not on a topic."""
    return [name for org in all_organisers() for name in (topic_to(org), topic_from(org))]


async def ensure_topics(
    connection: KafkaConnection, partitions: int, replication: int, *, min_insync_replicas: int = 1
) -> list[str]:
    """Create the topics that do not exist yet, with `min.insync.replicas`; returns the names created.

    Organisers' topics get `partitions`; a municipality's topic gets one, as its volume is small. A topic
    that exists with another `min.insync.replicas` is only reported (a warning), never altered: aiokafka
    has no incremental config change, and a whole-config change would drop the topic's other settings.
    """
    wanted = dict.fromkeys(silta_topics(), partitions) | dict.fromkeys(municipality_topics(), 1)
    configs = {MIN_INSYNC_REPLICAS: str(min_insync_replicas)}
    admin = AIOKafkaAdminClient(**connection.client_options(), request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        new_topics = [NewTopic(name, wanted[name], replication, topic_configs=configs) for name in missing]
        for start in range(0, len(new_topics), _CREATE_BATCH):
            with contextlib.suppress(TopicAlreadyExistsError):  # another instance created them meanwhile
                await admin.create_topics(new_topics[start : start + _CREATE_BATCH])
        await _report_min_insync_mismatch(admin, [name for name in wanted if name in existing], min_insync_replicas)
        return missing
    finally:
        await admin.close()


async def topics_min_insync_replicas(connection: KafkaConnection, names: list[str]) -> dict[str, int]:
    """Each topic's `min.insync.replicas` as the cluster holds it (topics it could not describe left out)."""
    admin = AIOKafkaAdminClient(**connection.client_options(), request_timeout_ms=30_000)
    await admin.start()
    try:
        return await _min_insync_replicas(admin, names)
    finally:
        await admin.close()


async def _min_insync_replicas(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, {MIN_INSYNC_REPLICAS: None}) for name in names]
    found: dict[str, int] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            found |= _value_of(resource)
    return found


def _value_of(resource: dict[str, Any]) -> dict[str, int]:
    if resource["error_code"]:
        return {}
    values = [int(e["config_value"]) for e in resource["config_entries"] if e["config_names"] == MIN_INSYNC_REPLICAS]
    return {resource["resource_name"]: values[0]} if values else {}


async def _report_min_insync_mismatch(admin: AIOKafkaAdminClient, names: list[str], wanted: int) -> None:
    """Warn about existing topics whose `min.insync.replicas` is not the configured one (never fatal)."""
    try:
        actual = await _min_insync_replicas(admin, names)
    except KafkaError as error:
        log.warning("kafka_topic_config_unchecked", error=repr(error))
        return
    differing = sorted(name for name, value in actual.items() if value != wanted)
    if differing:
        log.warning(
            "kafka_topic_min_insync_replicas_differs",
            wanted=wanted,
            topics=len(differing),
            found=sorted({actual[name] for name in differing}),
            examples=differing[:5],
        )
