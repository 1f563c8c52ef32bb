"""The console in a real browser: Debian's chromium driven by Playwright's async API.

The service runs in the test's own event loop under uvicorn on a free port,
against the session's real Kafka and a PostgreSQL database of the test's own
(the fixtures of `tests/conftest.py`). Playwright's sync `page` fixture would
start a second event loop beside pytest-asyncio's, so the browser is driven
with `async_playwright()` here instead. The relay is off: a message Kela sends
stays in the outbox, so the overview's numbers hold still while a test reads
them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page, async_playwright

from broker.kafka.topics import ensure_topics
from broker.settings import Settings
from devinfra.kafka import LocalKafka
from devinfra.ports import free_port
from entrypoints.api import create_app
from tests.conftest import AUDIENCE, CLIENTS, ISSUER
from tests.support.clients import CLIENT_ROLES
from tests.support.tasks import kafka_client_bootstrapping
from tests.support.waiting import wait_until

CHROMIUM = Path("/usr/bin/chromium")


class InProcessServer(uvicorn.Server):
    """uvicorn in the test's event loop, leaving pytest's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle no signals: the test ends the server by `should_exit`."""
        yield


@dataclass(frozen=True)
class LiveService:
    """The running service: its app (for the store behind it) and where it answers."""

    app: FastAPI
    base_url: str


@pytest.fixture(scope="session")
async def browser_topics(kafka: LocalKafka) -> LocalKafka:
    """The session's broker with Silta's topics, created once."""
    defaults = Settings()
    await ensure_topics(kafka.connection(), defaults.kafka_topic_partitions, defaults.kafka_replication_factor)
    return kafka


@pytest.fixture
def browser_settings(database_url: str, browser_topics: LocalKafka, jwks_file: Path, tmp_path: Path) -> Settings:
    """The test servers and keys, with the relay off so the outbox backlog stays where a test put it."""
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=browser_topics.bootstrap_servers,
        kafka_mtls_bootstrap_servers=browser_topics.mtls_bootstrap_servers,
        kafka_credentials_dir=browser_topics.credentials.root,
        kafka_create_topics=False,
        relay_enabled=False,
        auth_jwks_file=jwks_file,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_clients=CLIENTS,
        auth_client_roles=CLIENT_ROLES,
        audit_checkpoint_file=tmp_path / "audit-checkpoints.jsonl",
        kafka_request_timeout_ms=3000,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def live_service(browser_settings: Settings) -> AsyncIterator[LiveService]:
    """The real application served over HTTP on a free port, its lifespan run by uvicorn."""
    app = create_app(browser_settings)
    port = free_port()
    server = InProcessServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(), name="browser-test-server")
    await wait_until(lambda: server.started or serving.done(), 30, what="uvicorn serving the console")
    assert server.started, "the service did not start"
    yield LiveService(app, f"http://127.0.0.1:{port}")
    # The app may stop within moments of its start: let the Kafka clients finish connecting first.
    await wait_until(lambda: not kafka_client_bootstrapping(), 15, what="the app's Kafka clients connected")
    server.should_exit = True
    await serving


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Debian's chromium, headless, once per session (never a browser Playwright downloads)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        await browser.close()


@pytest.fixture
async def console_page(chromium: Browser, live_service: LiveService) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) on the live service."""
    context = await chromium.new_context(base_url=live_service.base_url)
    page = await context.new_page()
    yield page
    await context.close()
