"""The service killed between commit and publish: the record goes out after restart, once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer
from tests.e2e.conftest import ServiceProcess
from tests.integration.kafka_helpers import collect, delivered_ids
from tests.support.databases import outbox_drained

pytestmark = pytest.mark.e2e


async def test_killed_after_commit_is_published_after_restart_once(
    service: ServiceProcess, kafka: LocalKafka, token_for: Callable[..., str], database_url: str
) -> None:
    """Accept with the relay held back, SIGKILL the process, restart: exactly one record per message."""
    ids = [str(uuid.uuid4()) for _ in range(5)]
    headers = {"Authorization": f"Bearer {token_for()}", "Content-Type": "application/xml"}
    service.start(SILTA_RELAY_ENABLED="false")
    async with httpx.AsyncClient(base_url=service.base_url) as api:
        for message_id in ids:
            answer = await api.post("/kela/v1/messages", headers=headers, content=application_transfer(message_id))
            assert answer.status_code == 202
        assert (await api.get(f"/kela/v1/messages/{ids[0]}", headers=headers)).json()["status"] == "accepted"
    service.kill()

    service.start()
    deliveries = await collect(kafka, "hva-90", set(ids), timeout_s=60, until_quiet=outbox_drained(database_url))
    assert sorted(delivered_ids(deliveries)) == sorted(ids)  # type: ignore[type-var]
    async with httpx.AsyncClient(base_url=service.base_url) as api:
        assert (await api.get(f"/kela/v1/messages/{ids[0]}", headers=headers)).json()["status"] == "published"


async def test_identity_codes_never_reach_the_service_log(
    service: ServiceProcess, token_for: Callable[..., str]
) -> None:
    """The service's own log holds no identity code, after accepted and rejected messages alike."""
    headers = {"Authorization": f"Bearer {token_for()}", "Content-Type": "application/xml"}
    service.start(SILTA_LOG_LEVEL="DEBUG")
    async with httpx.AsyncClient(base_url=service.base_url) as api:
        assert (await api.post("/kela/v1/messages", headers=headers, content=application_transfer())).status_code == 202
        bad = application_transfer().replace(
            b"010594Y9032</PersonalIdentityCode>", b"010594Y9033</PersonalIdentityCode>"
        )
        assert (await api.post("/kela/v1/messages", headers=headers, content=bad)).status_code == 422
    service.stop()
    log = service.log.read_text()
    assert "request_rejected" in log
    for code in ("010594Y9032", "010594Y9033", "120390-912T", "230715A931C"):
        assert code not in log
