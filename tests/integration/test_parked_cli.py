"""`silta parked list|show|replay|discard` against real PostgreSQL, on records parked as the consumer parks them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from broker.store.tables import AuditEntry, MessageRecord
from devinfra.samples import example_message
from entrypoints.cli import main
from tests.integration.dead_letters_helpers import park_directly

pytestmark = pytest.mark.integration


async def _park(database_url: str, document: bytes, offset: int) -> int:
    engine = create_async_engine(database_url)
    try:
        return await park_directly(async_sessionmaker(engine), document, offset)
    finally:
        await engine.dispose()


async def _message_ids(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return set((await connection.scalars(select(MessageRecord.message_id))).all())
    finally:
        await engine.dispose()


async def _usages(database_url: str) -> list[dict[str, object]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.scalars(select(AuditEntry.payload))).all())
    finally:
        await engine.dispose()


def _last_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's answer: its last line (the service log's lines may come before it)."""
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_list_replay_and_replay_all_with_counts(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two parked records listed; one replayed by id (its message stored), the rest by --all: the counts."""
    monkeypatch.setenv("SILTA_DATABASE_URL", database_url)
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    first = asyncio.run(_park(database_url, example_message("decision-notice", message_id=first_id), 901))
    second = asyncio.run(_park(database_url, example_message("decision-notice", message_id=second_id), 902))
    assert main(["parked", "list", "--reason", "key-unknown"]) == 0
    listed = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == [str(first), str(second)]
    assert main(["parked", "replay", str(first)]) == 0
    assert _last_line(capsys) == f"{first}\tdelivered\t{first_id}"
    assert main(["parked", "replay", "--all", "--sender", "hva-08"]) == 0
    assert _last_line(capsys) == "delivered 1, duplicates 0, parked again 0, skipped 0"
    assert {first_id, second_id} <= asyncio.run(_message_ids(database_url))
    assert main(["parked", "show", str(second)]) == 0
    assert "state: replayed" in capsys.readouterr().out


def test_discard_needs_a_reason_and_an_unknown_id_is_named(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`discard` without --reason is a usage error; with one it is logged; an unknown id: parked-record-not-found."""
    monkeypatch.setenv("SILTA_DATABASE_URL", database_url)
    record = asyncio.run(_park(database_url, b"<not-xml", 903))
    with pytest.raises(SystemExit):
        main(["parked", "discard", str(record)])
    capsys.readouterr()
    assert main(["parked", "discard", str(record), "--reason", "noise", "--operator", "op-1"]) == 0
    assert "\tdiscarded\t" in capsys.readouterr().out
    payloads = asyncio.run(_usages(database_url))
    assert any(p.get("parked_record") == str(record) and p.get("user") == "op-1" for p in payloads)
    assert main(["parked", "show", "987654"]) == 1
    assert capsys.readouterr().err.startswith("parked-record-not-found:")
