"""Kafka down while Kela posts: accepting goes on, and the records go out when Kafka is back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer
from tests.integration.kafka_helpers import collect, delivered_ids
from tests.support.databases import outbox_drained
from tests.support.publishing import watch_failed_publishes
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_posts_during_an_outage_are_published_after_it_once(
    api: httpx.AsyncClient,
    kafka: LocalKafka,
    token_for: Callable[..., str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stop the broker, post three transfers (202 each, status accepted), restart: each arrives exactly once."""
    headers = {"Authorization": f"Bearer {token_for()}", "Content-Type": "application/xml"}
    ids = [str(uuid.uuid4()) for _ in range(3)]
    failed = watch_failed_publishes(monkeypatch)
    await asyncio.to_thread(kafka.stop)
    try:
        for message_id in ids:
            answer = await api.post("/kela/v1/messages", headers=headers, content=application_transfer(message_id))
            assert answer.status_code == 202
        posted = time.monotonic()
        await wait_until(lambda: failed.since(posted) > 0, 30, what="the relay trying to publish them, and failing")
        status = (await api.get(f"/kela/v1/messages/{ids[0]}", headers=headers)).json()
        assert status["status"] == "accepted"
        ready = await api.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": True, "kafka": False, "inbound": True}
    finally:
        await asyncio.to_thread(kafka.start)
    deliveries = await collect(kafka, "hva-90", set(ids), timeout_s=60, until_quiet=outbox_drained(database_url))
    assert sorted(delivered_ids(deliveries)) == sorted(ids)  # type: ignore[type-var]
