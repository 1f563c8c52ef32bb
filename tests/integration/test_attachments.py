"""Attachments by claim check on real PostgreSQL and Kafka: upload, manifest check, who may fetch."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from adapters.municipality.attachments import AttachmentClient
from adapters.municipality.messages import SiltaMessage
from broker.store.retention import purge_attachments
from broker.store.tables import MessageRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import EXAMPLE_ATTACHMENT, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items, post_as_kela, send_as_organiser
from tests.integration.kafka_helpers import collect

pytestmark = pytest.mark.integration
PDF = EXAMPLE_ATTACHMENT.read_bytes()
PDF_ID = hashlib.sha256(PDF).hexdigest()


def _auth(token: str, media_type: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return headers | ({"Content-Type": media_type} if media_type else {})


async def _upload(api: httpx.AsyncClient, token: str, content: bytes, media_type: str) -> httpx.Response:
    return await api.post("/kela/v1/attachments", content=content, headers=_auth(token, media_type))


async def test_an_upload_is_stored_once_under_its_sha256(api: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
    """Uploading the same content twice gives the same id: its SHA-256."""
    first = await _upload(api, token_for(), PDF, "application/pdf")
    second = await _upload(api, token_for(), PDF, "application/pdf")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.json() | {"href": ""} == {
        "attachment_id": PDF_ID,
        "sha256": PDF_ID,
        "media_type": "application/pdf",
        "size": len(PDF),
        "href": "",
    }


REFUSED_UPLOADS = {
    "html": (b"<script>alert(1)</script>", "text/html", 415, "attachment-media-type"),
    "pdf-that-is-not": (b"not really a pdf", "application/pdf", 415, "attachment-media-type"),
    "empty": (b"", "text/plain", 422, "request-invalid"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_UPLOADS))
async def test_uploads_outside_the_allowlist_are_refused(
    case: str, api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Only allowed media types are stored, and the content must look like its declared type."""
    content, media_type, status, code = REFUSED_UPLOADS[case]
    answer = await _upload(api, token_for(), content, media_type)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


async def test_a_message_referencing_an_attachment_silta_does_not_hold_is_refused(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The manifest names an attachment nobody uploaded: 422 attachment-unknown with the element's path."""
    answer = await post_as_kela(api, token_for(), example_message("late-attachment", municipality="837"))
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "attachment-unknown"
    assert problem["errors"][0]["path"].endswith("/Attachment/AttachmentId")


async def test_a_manifest_that_does_not_match_the_content_is_refused(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """The manifest's size differs from the held attachment: 422 attachment-mismatch naming Size."""
    await _upload(api, token_for(), PDF, "application/pdf")
    document = example_message("late-attachment", municipality="837").replace(
        f"<Size>{len(PDF)}</Size>".encode(), b"<Size>999</Size>"
    )
    answer = await post_as_kela(api, token_for(), document)
    assert (answer.status_code, answer.json()["code"]) == (422, "attachment-mismatch")
    assert answer.json()["errors"][0]["path"].endswith("/Attachment/Size")


async def test_late_attachment_reaches_the_organiser_who_may_fetch_it_and_nobody_else(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Kela forwards a late attachment: hva-08 fetches the content; hva-06, no party to it, gets 404."""
    await _upload(api, token_for(), PDF, "application/pdf")
    message_id = str(uuid.uuid4())
    document = example_message("late-attachment", message_id=message_id, municipality="837")
    assert (await post_as_kela(api, token_for(), document)).status_code == 202
    [delivery] = await collect(kafka, "hva-08", {message_id})
    assert isinstance(delivery.message, SiltaMessage)
    attachment_id = delivery.message.text("Attachments/Attachment/AttachmentId")
    assert attachment_id == PDF_ID

    fetched = await api.get(f"/attachments/{PDF_ID}", headers=_auth(token_for("hva-08-case-system")))
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    stranger = await api.get(f"/attachments/{PDF_ID}", headers=_auth(token_for("hva-06-case-system")))
    assert (stranger.status_code, stranger.json()["code"]) == (404, "attachment-not-found")


async def test_an_organiser_uploads_through_its_client_and_sends_a_late_attachment_to_kela(
    app: FastAPI, api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """The organiser's client uploads, the late attachment travels on Kafka, Kela reads and fetches it."""
    transport = httpx.ASGITransport(app=app)
    async with AttachmentClient("http://silta.test", token_for("hva-08-case-system"), transport=transport) as client:
        assert await client.upload(PDF, "application/pdf") == PDF_ID
    sent = await send_as_organiser(kafka, example_message("late-attachment", variant="from-hva-08"))
    [item] = await inbox_items(api, token_for(), {sent.message_id})
    assert item["message_type"] == "late-attachment"
    fetched = await api.get(f"/attachments/{PDF_ID}", headers=_auth(token_for()))
    assert fetched.content == PDF


async def test_retention_purges_an_attachment_only_after_every_message_referencing_it(
    api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
) -> None:
    """An attachment stays while a message that references it keeps its body; then it is emptied too."""
    await _upload(api, token_for(), PDF, "application/pdf")
    message_id = str(uuid.uuid4())
    document = example_message("late-attachment", message_id=message_id, municipality="837")
    assert (await post_as_kela(api, token_for(), document)).status_code == 202
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    async with services.sessions() as session, session.begin():
        assert await purge_attachments(session, later, later) == []  # the message still needs it
        await session.execute(
            update(MessageRecord).where(MessageRecord.message_id == message_id).values(purged_at=later)
        )
        assert await purge_attachments(session, later, later) == [PDF_ID]
    fetched = await api.get(f"/attachments/{PDF_ID}", headers=_auth(token_for()))
    assert fetched.status_code == 404
