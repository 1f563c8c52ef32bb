"""`silta kafka acls [--apply]` and `silta kafka client-config PARTY [--mtls]` against the real secured broker."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context

from broker.domain.topics import topic_from, topic_to
from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import AclBinding, Operation, PatternType, ResourceType
from devinfra.kafka import LocalKafka
from entrypoints.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def bus_env(kafka_topics: LocalKafka, monkeypatch: pytest.MonkeyPatch) -> LocalKafka:
    """The CLI's settings pointed at the session's broker and its credentials folder."""
    monkeypatch.setenv("SILTA_KAFKA_BOOTSTRAP_SERVERS", kafka_topics.bootstrap_servers)
    monkeypatch.setenv("SILTA_KAFKA_MTLS_BOOTSTRAP_SERVERS", kafka_topics.mtls_bootstrap_servers)
    monkeypatch.setenv("SILTA_KAFKA_CREDENTIALS_DIR", str(kafka_topics.credentials.root))
    return kafka_topics


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return dict(pairs)


async def _topics_seen_with(props: dict[str, str]) -> set[str]:
    """Connect as a librdkafka-style properties file says, with aiokafka, and list the visible topics."""
    tls = create_ssl_context(
        cafile=props["ssl.ca.location"],
        certfile=props.get("ssl.certificate.location"),
        keyfile=props.get("ssl.key.location"),
    )
    sasl = (
        {"sasl_mechanism": props["sasl.mechanisms"], "sasl_plain_username": props["sasl.username"]}
        | {"sasl_plain_password": props["sasl.password"]}
        if props["security.protocol"] == "SASL_SSL"
        else {}
    )
    admin = AIOKafkaAdminClient(
        bootstrap_servers=props["bootstrap.servers"],
        security_protocol=props["security.protocol"],
        ssl_context=tls,
        **sasl,
    )
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


@pytest.mark.parametrize("mtls", [False, True], ids=["scram", "certificate"])
def test_client_config_is_what_a_supplier_connects_with(
    bus_env: LocalKafka, capsys: pytest.CaptureFixture[str], mtls: bool
) -> None:
    """The printed file names the listener, protocol and credentials; connecting with it shows hva-08's own topics."""
    assert main(["kafka", "client-config", "hva-08", *(["--mtls"] if mtls else [])]) == 0
    props = _properties(capsys.readouterr().out)
    if mtls:
        assert (props["security.protocol"], props["bootstrap.servers"]) == ("SSL", bus_env.mtls_bootstrap_servers)
        assert "sasl.password" not in props
        assert props["ssl.key.location"].endswith("hva-08/key.pem")
    else:
        assert (props["security.protocol"], props["sasl.mechanisms"]) == ("SASL_SSL", "SCRAM-SHA-512")
        assert props["sasl.username"] == "hva-08"
    assert asyncio.run(_topics_seen_with(props)) == {topic_to("hva-08"), topic_from("hva-08")}


@pytest.mark.usefixtures("bus_env")
def test_client_config_refuses_a_party_the_bus_does_not_know(capsys: pytest.CaptureFixture[str]) -> None:
    """`hva-99` is no party: exit 2 and a line that says so."""
    assert main(["kafka", "client-config", "hva-99"]) == 2
    assert "not a party of the bus" in capsys.readouterr().out


def test_acls_lists_an_extra_binding_and_apply_removes_it(
    bus_env: LocalKafka, capsys: pytest.CaptureFixture[str]
) -> None:
    """A planted binding: `acls` prints it with `-` and exits 1; `acls --apply` removes it; then `acls` says in sync."""
    planted = AclBinding("User:hva-09", ResourceType.GROUP, "hva-08.", PatternType.PREFIXED, Operation.READ)

    async def plant() -> None:
        async with AclAdmin(bus_env.connection()) as admin:
            await admin.create([planted])

    asyncio.run(plant())
    assert main(["kafka", "acls"]) == 1
    assert f"- {planted}" in capsys.readouterr().out.splitlines()
    assert main(["kafka", "acls", "--apply"]) == 0
    assert "1 ACL bindings applied" in capsys.readouterr().out
    assert main(["kafka", "acls"]) == 0
    assert "in sync" in capsys.readouterr().out
