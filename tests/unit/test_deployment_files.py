"""docker-compose.yml parses and names only settings the code reads."""

from __future__ import annotations

import json
from typing import Any

import yaml

from broker.domain.clients import Role
from broker.settings import PROJECT_ROOT, Settings
from devinfra.kafka import cluster_id


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    return document


def test_compose_has_kafka_postgres_and_the_service() -> None:
    """The deployment sketch runs the three parts."""
    assert set(_compose()["services"]) == {"kafka", "postgres", "silta"}


def test_every_silta_variable_in_compose_is_a_setting() -> None:
    """A SILTA_* variable that names no setting would be silently ignored: none may exist."""
    environment = _compose()["services"]["silta"]["environment"]
    names = {key.removeprefix("SILTA_").lower() for key in environment if key.startswith("SILTA_")}
    assert names, "the service is configured through SILTA_* variables"
    assert names <= set(Settings.model_fields)


def test_compose_kafka_runs_in_kraft_mode() -> None:
    """Kafka runs as combined broker and controller, without ZooKeeper."""
    kafka = _compose()["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "KAFKA_ZOOKEEPER_CONNECT" not in kafka


def test_local_kafka_cluster_ids_never_look_like_an_option() -> None:
    """A cluster id starting with `-` made `kafka-storage format -t ID` fail one start in 64."""
    assert not any(cluster_id().startswith("-") for _ in range(2000))


def test_compose_clients_each_have_a_role_that_fits() -> None:
    """The sketch's clients would start: every client has a role, its organiser client a real organiser."""
    environment = _compose()["services"]["silta"]["environment"]
    settings = Settings(
        auth_client_roles=json.loads(environment["SILTA_AUTH_CLIENT_ROLES"]),
        auth_clients=json.loads(environment["SILTA_AUTH_CLIENTS"]),
    )
    assert {grant.role for grant in settings.clients().values()} == set(Role)
