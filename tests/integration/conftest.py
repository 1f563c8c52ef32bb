"""Real servers for integration tests: Apache Kafka (KRaft, official jars) and PostgreSQL.

Both are started once per test session on free ports with their data in
temporary folders; each test gets a database of its own, built with the
Alembic migrations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from broker.settings import Settings
from devinfra.kafka import LocalKafka
from entrypoints.api import create_app
from entrypoints.bootstrap import Runtime
from tests.conftest import AUDIENCE, CLIENTS, ISSUER

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(database_url: str, kafka: LocalKafka, jwks_file: Path) -> Settings:
    """Settings that point the service at the test servers and the test key."""
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        auth_jwks_file=jwks_file,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_clients=CLIENTS,
        relay_poll_interval_s=0.2,
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
