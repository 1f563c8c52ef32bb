"""The secured bus, tried as an attacker would: who may connect, read, write and join, and who may not."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import uuid
from pathlib import Path

import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from broker.domain.topics import topic_from, topic_to
from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import AclBinding, Operation, PatternType, ResourceType, desired_acls
from broker.kafka.connection import KafkaConnection
from broker.kafka.credentials import CredentialFolder
from broker.kafka.publisher import KafkaPublisher
from broker.kafka.refusals import watch_aiokafka_refusals
from broker.metrics import KAFKA_REFUSALS
from devinfra.kafka import LocalKafka
from devinfra.pki import LocalAuthority
from tests.integration.kafka_helpers import SHORT_TIMEOUTS, can_connect

pytestmark = pytest.mark.integration


async def _write(connection: KafkaConnection, topic: str) -> None:
    producer = AIOKafkaProducer(**connection.client_options(), **SHORT_TIMEOUTS)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"<probe/>", key=b"probe")
    finally:
        await producer.stop()


async def _read(connection: KafkaConnection, topic: str, group: str) -> None:
    """Join `group` on `topic` and fetch once (raises if refused)."""
    consumer = AIOKafkaConsumer(topic, **connection.client_options(), group_id=group, **SHORT_TIMEOUTS)
    try:
        await consumer.start()
        async with asyncio.timeout(30):
            await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()


async def test_an_anonymous_client_cannot_connect(kafka_topics: LocalKafka) -> None:
    """No plaintext listener, no anonymous login: plaintext, TLS without a login, TLS without a certificate all fail."""
    ca_only = ssl.create_default_context(cafile=str(kafka_topics.credentials.ca_file))
    assert not await can_connect({"bootstrap_servers": kafka_topics.bootstrap_servers})
    assert not await can_connect(
        {"bootstrap_servers": kafka_topics.bootstrap_servers, "security_protocol": "SSL", "ssl_context": ca_only}
    )
    assert not await can_connect(
        {"bootstrap_servers": kafka_topics.mtls_bootstrap_servers, "security_protocol": "SSL", "ssl_context": ca_only}
    )
    assert await can_connect(kafka_topics.connection("hva-09").client_options())


async def test_a_wrong_scram_password_is_refused(kafka_topics: LocalKafka, tmp_path: Path) -> None:
    """hva-09's user name with another password: authentication fails."""
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password")
    connection = dataclasses.replace(kafka_topics.connection("hva-09"), password_file=wrong)
    assert not await can_connect(connection.client_options())


async def test_a_certificate_from_another_ca_is_refused(kafka_topics: LocalKafka, tmp_path: Path) -> None:
    """A certificate for CN=hva-09 signed by a CA the broker does not trust: the handshake fails."""
    foreign = CredentialFolder(tmp_path / "foreign")
    LocalAuthority(foreign, name="Someone else's CA").ensure_principal("hva-09")
    connection = KafkaConnection(
        kafka_topics.mtls_bootstrap_servers,
        kafka_topics.credentials.ca_file,  # the client trusts the real broker; the broker does not trust it
        kafka_topics.connection("hva-09", mtls=True).protocol,
        cert_file=foreign.cert_file("hva-09"),
        key_file=foreign.key_file("hva-09"),
    )
    assert not await can_connect(connection.client_options())
    assert await can_connect(kafka_topics.connection("hva-09", mtls=True).client_options())


@pytest.mark.parametrize("mtls", [False, True], ids=["scram", "certificate"])
async def test_an_organiser_reads_writes_and_joins_only_its_own(kafka_topics: LocalKafka, mtls: bool) -> None:
    """hva-09 may read its to-topic, write its from-topic and join `hva-09.*` groups; hva-08's are refused."""
    hva09 = kafka_topics.connection("hva-09", mtls=mtls)
    await _write(hva09, topic_from("hva-09"))
    await _read(hva09, topic_to("hva-09"), f"hva-09.cases-{uuid.uuid4().hex[:8]}")
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(hva09, topic_from("hva-08"))
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(hva09, topic_to("hva-09"))  # posing as Silta on its own to-topic
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError)):
        await _read(hva09, topic_to("hva-08"), f"hva-09.cases-{uuid.uuid4().hex[:8]}")
    with pytest.raises(GroupAuthorizationFailedError):
        await _read(hva09, topic_to("hva-09"), "hva-08.cases")


async def test_an_organiser_does_not_see_other_parties_topics(kafka_topics: LocalKafka) -> None:
    """Listing topics as hva-09 shows only the two it may describe, not the 337 of the bus."""
    admin = AIOKafkaAdminClient(**kafka_topics.connection("hva-09").client_options(), **SHORT_TIMEOUTS)
    await admin.start()
    try:
        visible = set(await admin.list_topics())
    finally:
        await admin.close()
    assert visible == {topic_to("hva-09"), topic_from("hva-09")}


async def test_acls_apply_removes_a_planted_extra_and_is_idempotent(kafka_topics: LocalKafka) -> None:
    """A planted ACL (hva-09 reads hva-08's topic) shows as extra and apply removes it; applying again does nothing."""
    planted = AclBinding("User:hva-09", ResourceType.TOPIC, topic_to("hva-08"), PatternType.LITERAL, Operation.READ)
    async with AclAdmin(kafka_topics.connection()) as admin:
        await admin.apply(desired_acls() | {planted})
        assert (await admin.diff(desired_acls())).extra == {planted}
        removed = await admin.apply(desired_acls())
        assert (removed.extra, removed.missing) == (frozenset({planted}), frozenset())
        again = await admin.apply(desired_acls())
        assert again.in_sync
        assert (await admin.diff(desired_acls())).in_sync
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError, KafkaConnectionError)):
        await _read(kafka_topics.connection("hva-09"), topic_to("hva-08"), f"hva-09.cases-{uuid.uuid4().hex[:8]}")


async def test_silta_counts_and_logs_a_refusal_of_its_own_client(kafka_topics: LocalKafka, tmp_path: Path) -> None:
    """Silta's producer with a wrong password: not ready, the refusal counted and logged, the password never shown."""
    watch_aiokafka_refusals()  # as the composition root does
    wrong = tmp_path / "password"
    wrong.write_text("a-wrong-password")
    publisher = KafkaPublisher(
        dataclasses.replace(kafka_topics.connection(), password_file=wrong), request_timeout_ms=5000
    )
    before = _refusals()
    with structlog.testing.capture_logs() as logs:
        assert not await publisher.ping(timeout_s=10)
    await publisher.close()
    assert _refusals() > before
    refused = [line for line in logs if line["event"] == "kafka_refused"]
    assert refused
    assert refused[0]["reason"] == "SaslAuthenticationFailed"
    assert "a-wrong-password" not in repr(logs)


def _refusals() -> float:
    samples = (s for metric in KAFKA_REFUSALS.collect() for s in metric.samples if s.name.endswith("_total"))
    return sum(s.value for s in samples if s.labels["reason"] == "SaslAuthenticationFailed")


async def test_a_principal_without_acls_may_do_nothing(kafka_topics: LocalKafka) -> None:
    """A certificate from the bus's own CA for a name no registry knows: it connects, sees no topic, writes nowhere."""
    LocalAuthority(kafka_topics.credentials).ensure_principal("stranger")
    stranger = kafka_topics.connection("stranger", mtls=True)
    admin = AIOKafkaAdminClient(**stranger.client_options(), **SHORT_TIMEOUTS)
    await admin.start()
    try:
        assert await admin.list_topics() == []
    finally:
        await admin.close()
    with pytest.raises(TopicAuthorizationFailedError):
        await _write(stranger, topic_from("hva-08"))
