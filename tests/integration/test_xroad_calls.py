"""Kela's calls through its X-Road security server: the call id, the member and the official in the usage log."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from broker.store.tables import AuditEntry
from devinfra.kafka import LocalKafka
from devinfra.samples import EXAMPLE_ATTACHMENT, application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items, send_as_organiser

pytestmark = pytest.mark.integration

XROAD = {
    "X-Road-Id": "fa2e18a5-c2cb-4d09-b994-f57727f7c3d2",
    "X-Road-Client": "FI/GOV/0245437-2/kela-etuudet",
    "X-Road-UserId": "KE9001",
}


async def test_an_inbox_read_logs_the_x_road_member_and_official(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """Kela reads a decision notice through X-Road: the usage entry names member, official and call id; id echoed."""
    auth = {"Authorization": f"Bearer {token_for('kela')}"}
    held = await api.post(
        "/kela/v1/attachments",
        content=EXAMPLE_ATTACHMENT.read_bytes(),
        headers={**auth, "Content-Type": "application/pdf"},
    )
    assert held.status_code == 201, held.text
    sent = await send_as_organiser(kafka, example_message("decision-notice"))
    [item] = await inbox_items(api, token_for("kela"), {sent.message_id})
    read = await api.get(item["href"], headers={**auth, **XROAD})
    assert read.status_code == 200, read.text
    assert read.headers["X-Road-Id"] == read.headers["X-Request-Id"] == XROAD["X-Road-Id"]
    async with services.sessions() as session:
        usages = (await session.execute(select(AuditEntry.payload).where(AuditEntry.chain == "usage"))).scalars()
        [entry] = [u for u in usages if u.get("message_id") == sent.message_id]
    assert entry["x_road_client"] == XROAD["X-Road-Client"]
    assert entry["x_road_user_id"] == XROAD["X-Road-UserId"]
    assert entry["x_road_id"] == XROAD["X-Road-Id"]
    assert entry["user"] == "kela"


async def test_a_bad_x_road_header_reads_nothing(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """An official named by an identity code is refused with 400 `x-road-header-invalid`; no usage is logged."""
    headers = {"Authorization": f"Bearer {token_for('kela')}", **XROAD, "X-Road-UserId": "120390-912T"}
    answer = await api.get("/kela/v1/inbox", headers=headers)
    assert answer.status_code == 400
    assert answer.json()["code"] == "x-road-header-invalid"
    assert "120390" not in answer.text
    async with services.sessions() as session:
        assert (await session.execute(select(AuditEntry.id).where(AuditEntry.chain == "usage"))).first() is None


async def test_a_message_sent_through_x_road_keeps_its_call_in_tracking(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The X-Road-Id is the tracked message's request id and X-Road-Client its calling member; a repeat keeps them."""
    message_id = str(uuid.uuid4())
    auth = {"Authorization": f"Bearer {token_for('kela')}", "Content-Type": "application/xml"}
    document = application_transfer(message_id)
    sent = await api.post("/kela/v1/messages", content=document, headers={**auth, **XROAD})
    assert sent.status_code == 202, sent.text
    again = await api.post("/kela/v1/messages", content=document, headers={**auth, "X-Request-Id": "a-retry"})
    assert again.status_code == 202, again.text
    status = await api.get(f"/kela/v1/messages/{message_id}", headers={"Authorization": auth["Authorization"]})
    assert status.status_code == 200, status.text
    assert status.json()["request_id"] == XROAD["X-Road-Id"]
    assert status.json()["calling_member"] == XROAD["X-Road-Client"]


async def test_a_message_sent_off_x_road_is_tracked_by_its_request_id(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Without a security server the caller's X-Request-Id is the tracked request id and there is no member."""
    message_id = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token_for('kela')}", "Content-Type": "application/xml"}
    sent = await api.post(
        "/kela/v1/messages", content=application_transfer(message_id), headers={**headers, "X-Request-Id": "kela-42"}
    )
    assert sent.status_code == 202, sent.text
    status = (await api.get(f"/kela/v1/messages/{message_id}", headers=headers)).json()
    assert (status["request_id"], status["calling_member"]) == ("kela-42", None)
