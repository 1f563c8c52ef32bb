"""Real servers for integration tests: Apache Kafka (KRaft, official jars) and PostgreSQL.

Both are started once per test session on free ports with their data in
temporary folders, and Silta's topics are created once; each test gets a
database of its own, cloned from one migrated with Alembic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from broker.kafka.topics import ensure_topics
from broker.settings import Settings
from devinfra.kafka import LocalKafka
from entrypoints.api import create_app
from entrypoints.bootstrap import Runtime
from tests.conftest import AUDIENCE, CLIENTS, ISSUER
from tests.support.clients import CLIENT_ROLES
from tests.support.tasks import kafka_client_bootstrapping
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def kafka_topics(kafka: LocalKafka) -> LocalKafka:
    """The session's broker with every topic Silta uses, created once, as the service does at its first start."""
    defaults = Settings()
    await ensure_topics(kafka.connection(), defaults.kafka_topic_partitions, defaults.kafka_replication_factor)
    return kafka


@pytest.fixture
def settings(database_url: str, kafka_topics: LocalKafka, jwks_file: Path, tmp_path: Path) -> Settings:
    """Settings that point the service at the test servers and the test key.

    The topics exist already (`kafka_topics`), so the app does not look for
    them again at each start: a test that ends within milliseconds would
    otherwise cancel that look-up half-way, leaving its connection open.
    """
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_topics.bootstrap_servers,
        kafka_mtls_bootstrap_servers=kafka_topics.mtls_bootstrap_servers,
        kafka_credentials_dir=kafka_topics.credentials.root,
        kafka_create_topics=False,
        auth_jwks_file=jwks_file,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_clients=CLIENTS,
        auth_client_roles=CLIENT_ROLES,
        relay_poll_interval_s=0.2,
        audit_checkpoint_file=tmp_path / "audit-checkpoints.jsonl",
        kafka_request_timeout_ms=3000,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real application with its lifespan running (database, relay, Kafka producer)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        # A test may end within milliseconds of the start: let the Kafka clients finish connecting first.
        await wait_until(lambda: not kafka_client_bootstrapping(), 15, what="the app's Kafka clients connected")


@pytest.fixture
def services(app: FastAPI) -> Runtime:
    """The running app's services."""
    services: Runtime = app.state.runtime
    return services


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the running app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://silta.test") as client:
        yield client
