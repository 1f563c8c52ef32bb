"""Both live versions of the application transfer through Kela's REST API to Kafka, on real Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.municipality.messages import ApplicationTransfer
from broker.store.migrate import upgrade_database
from devinfra.kafka import LocalKafka
from devinfra.postgres import LocalPostgres
from devinfra.samples import application_transfer
from tests.integration.api_helpers import wait_for_status
from tests.integration.kafka_helpers import collect

pytestmark = pytest.mark.integration


def _headers(token: str) -> dict[str, str]:
    return {"Content-Type": "application/xml", "Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("version", "language"), [("1.0", None), ("2.0", "sv")])
async def test_each_version_reaches_kafka_with_its_schema_header(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str], version: str, language: str | None
) -> None:
    """POST a 1.0 and a 2.0 transfer: each record says its version in silta-schema, and the status shows it."""
    message_id = str(uuid.uuid4())
    document = application_transfer(message_id, municipality="837", schema_version=version, preferred_language=language)
    answer = await api.post("/kela/v1/messages", headers=_headers(token_for()), content=document)
    assert answer.status_code == 202, answer.text

    [delivery] = await collect(kafka, "hva-08", {message_id})
    assert delivery.headers["silta-schema"] == f"urn:fi:silta:application-transfer:1#{version}"
    assert isinstance(delivery.message, ApplicationTransfer)
    assert delivery.message.envelope.schema_version == version
    assert delivery.message.preferred_language == language
    status = await wait_for_status(api, token_for(), message_id, "published")
    assert status["schema_version"] == version


async def test_an_unsupported_version_is_a_problem_naming_the_supported_ones(
    api: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """2.7 → 422 unsupported-schema-version, the detail lists 1.0 and 2.0, the error points at SchemaVersion."""
    message_id = str(uuid.uuid4())
    document = application_transfer(message_id, schema_version="2.7")
    answer = await api.post("/kela/v1/messages", headers=_headers(token_for()), content=document)
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "unsupported-schema-version"
    assert "1.0, 2.0" in body["detail"]
    assert [item["path"] for item in body["errors"]] == ["/ApplicationTransfer/Envelope/SchemaVersion"]
    status = await api.get(f"/kela/v1/messages/{message_id}", headers=_headers(token_for()))
    assert status.status_code == 404


async def test_messages_stored_before_versions_count_as_1_0(postgres: LocalPostgres) -> None:
    """Migration 0009 gives rows that existed before it schema version 1.0: they were all checked against 1.0."""
    url = postgres.create_database(f"t_{uuid.uuid4().hex[:16]}")
    await upgrade_database(url, "0007")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO messages (message_id, message_type, sender, recipient, case_id, content_sha256, body,"
                    " removed_fields, policy_version, status, accepted_at)"
                    " VALUES ('m-1', 'statement', 'hva-08', 'kela', 'C-1', 'x', 'b', '{}', 'p', 'accepted', now())"
                )
            )
        await upgrade_database(url)
        async with engine.connect() as connection:
            stored = await connection.scalar(text("SELECT schema_version FROM messages WHERE message_id = 'm-1'"))
            default = await connection.scalar(
                text(
                    "SELECT column_default FROM information_schema.columns"
                    " WHERE table_name = 'messages' AND column_name = 'schema_version'"
                )
            )
    finally:
        await engine.dispose()
    assert stored == "1.0"
    assert default is None
