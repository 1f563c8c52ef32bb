"""docker-compose.yml parses, names only settings the code reads, and matches the local cluster launcher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509

from broker.domain.clients import Role
from broker.kafka.credentials import BROKER_PRINCIPAL, CredentialFolder
from broker.settings import PROJECT_ROOT, Settings
from devinfra.cluster_config import MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, replicated_storage
from devinfra.kafka import cluster_id
from devinfra.pki import SERVER_NAMES, LocalAuthority


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    return document


def _services(prefix: str) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in _compose()["services"].items() if name.startswith(prefix)}


def _kafka_variable(name: str) -> str:
    """The apache/kafka image's variable for a `server.properties` key (`.` → `_`, `_` → `__`, `-` → `___`)."""
    return "KAFKA_" + name.replace("_", "__").replace("-", "___").replace(".", "_").upper()


def test_compose_has_three_brokers_postgres_and_two_instances() -> None:
    """The deployment sketch runs the scale-out shape: a cluster of three, one database, two service instances."""
    assert set(_compose()["services"]) == {"kafka-1", "kafka-2", "kafka-3", "postgres", "silta-1", "silta-2"}


def test_every_silta_variable_in_compose_is_a_setting() -> None:
    """A SILTA_* variable that names no setting would be silently ignored: none may exist, in either instance."""
    for name, service in _services("silta").items():
        names = {key.removeprefix("SILTA_").lower() for key in service["environment"] if key.startswith("SILTA_")}
        assert names, f"{name} is configured through SILTA_* variables"
        assert names <= set(Settings.model_fields), name


def test_the_instances_differ_only_in_their_host_port() -> None:
    """Two instances of one service: the same settings and files, so either may do any of the work."""
    first, second = (dict(service) for service in _services("silta").values())
    assert first.pop("ports") != second.pop("ports")
    assert first == second


def test_compose_kafka_runs_a_kraft_quorum_of_three() -> None:
    """Each broker is a combined broker and controller with its own id, in one quorum, without ZooKeeper."""
    brokers = _services("kafka-")
    ids = {service["environment"]["KAFKA_NODE_ID"] for service in brokers.values()}
    assert ids == {"1", "2", "3"}
    for name, service in brokers.items():
        environment = service["environment"]
        assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert "KAFKA_ZOOKEEPER_CONNECT" not in environment
        assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-1:9095,2@kafka-2:9095,3@kafka-3:9095"
        assert f"SASL_SSL://{name}:9092" in environment["KAFKA_ADVERTISED_LISTENERS"]
        assert "PLAINTEXT" not in json.dumps(environment)


def test_compose_brokers_replicate_as_the_local_cluster_does() -> None:
    """RF 3 and min ISR 2 for every topic, Kafka's own too: the same values as `devinfra/cluster_config.py`."""
    launcher = {key: value for key, value in replicated_storage(Path("/data")).items() if key != "log.dirs"}
    for service in _services("kafka-").values():
        environment = service["environment"]
        assert {key: environment.get(_kafka_variable(key)) for key in launcher} == launcher


def test_compose_instances_create_topics_the_cluster_can_hold() -> None:
    """Silta's own topics get the cluster's replication factor and min ISR, and reach all three brokers."""
    for service in _services("silta").values():
        environment = service["environment"]
        settings = Settings(
            kafka_replication_factor=environment["SILTA_KAFKA_REPLICATION_FACTOR"],
            kafka_min_insync_replicas=environment["SILTA_KAFKA_MIN_INSYNC_REPLICAS"],
        )
        assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas) == (
            REPLICATION_FACTOR,
            MIN_INSYNC_REPLICAS,
        )
        assert environment["SILTA_KAFKA_MTLS_BOOTSTRAP_SERVERS"] == "kafka-1:9093,kafka-2:9093,kafka-3:9093"


def test_the_local_broker_certificate_names_every_compose_broker(tmp_path: Path) -> None:
    """The mounted broker certificate must verify as kafka-1 … kafka-3; an older one without them is made again."""
    hosts = set(_services("kafka-"))
    assert hosts <= set(SERVER_NAMES)
    folder = CredentialFolder(tmp_path)
    authority = LocalAuthority(folder)
    _key, without_names = authority.issue(BROKER_PRINCIPAL)  # as made before the cluster: no host names at all
    folder.cert_file(BROKER_PRINCIPAL).parent.mkdir(parents=True)
    folder.cert_file(BROKER_PRINCIPAL).write_bytes(without_names)
    authority.ensure_principal(BROKER_PRINCIPAL, server=True)
    assert hosts <= _host_names(folder.cert_file(BROKER_PRINCIPAL))
    renewed = folder.cert_file(BROKER_PRINCIPAL).read_bytes()
    authority.ensure_principal(BROKER_PRINCIPAL, server=True)
    assert folder.cert_file(BROKER_PRINCIPAL).read_bytes() == renewed  # current now: kept


def _host_names(cert_file: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(names.get_values_for_type(x509.DNSName))


def test_local_kafka_cluster_ids_never_look_like_an_option() -> None:
    """A cluster id starting with `-` made `kafka-storage format -t ID` fail one start in 64."""
    assert not any(cluster_id().startswith("-") for _ in range(2000))


def test_compose_clients_each_have_a_role_that_fits() -> None:
    """The sketch's clients would start: every client has a role, its organiser client a real organiser."""
    environment = _compose()["services"]["silta-1"]["environment"]
    settings = Settings(
        auth_client_roles=json.loads(environment["SILTA_AUTH_CLIENT_ROLES"]),
        auth_clients=json.loads(environment["SILTA_AUTH_CLIENTS"]),
    )
    assert {grant.role for grant in settings.clients().values()} == set(Role)
