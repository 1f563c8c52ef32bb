"""The reference client's processed-message store: each message's effect once, whatever the deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.municipality.client import Delivery
from adapters.municipality.dedup import Outcome, ProcessedMessages, handle_once
from adapters.municipality.messages import ApplicationTransfer, SiltaMessage, silta_message_from_xml
from broker.settings import PROJECT_ROOT

_case_db = MetaData()
case_notes = Table("case_notes", _case_db, Column("message_id", String(64)), Column("note", String(200)))
"""The case system's own table: the effect of a message."""


class CrashBeforeOffsetCommitError(Exception):
    """The consumer process died after the store committed, before Kafka had the offset."""


class Client:
    """Stands in for `OrganiserClient.ack`: counts acknowledgements, or dies at the first one."""

    def __init__(self, *, crash: bool = False) -> None:
        self.acked: list[int] = []
        self._crash = crash

    async def ack(self, delivery: Delivery) -> None:
        """Record the offset, or crash as a process killed at this point would."""
        if self._crash:
            raise CrashBeforeOffsetCommitError
        self.acked.append(delivery.offset)


def _message() -> SiltaMessage:
    document = (PROJECT_ROOT / "schemas/examples/valid/status-update.xml").read_bytes()
    return silta_message_from_xml(etree.fromstring(document), "status-update")


MESSAGE_ID = _message().envelope.message_id


def _delivery(offset: int = 7) -> Delivery:
    message = _message()
    return Delivery(message, "silta.to.hva-08.v1", 0, offset, message.envelope.case_id)


async def _open(path: Path) -> ProcessedMessages:
    store = ProcessedMessages.sqlite(path)
    await store.create()
    async with store.engine.begin() as connection:
        await connection.run_sync(_case_db.create_all)
    return store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ProcessedMessages]:
    """A store in a fresh SQLite file, with the case system's table beside it."""
    opened = await _open(tmp_path / "case-system.db")
    yield opened
    await opened.close()


async def _notes(store: ProcessedMessages) -> list[str]:
    async with store.engine.connect() as connection:
        return list((await connection.scalars(select(case_notes.c.message_id))).all())


async def _write_note(message: ApplicationTransfer | SiltaMessage, tx: AsyncConnection) -> None:
    await tx.execute(insert(case_notes).values(message_id=message.envelope.message_id, note=type(message).__name__))


async def test_a_second_delivery_of_a_message_is_skipped(store: ProcessedMessages) -> None:
    """The same message twice: the handler runs once, one effect is stored, both deliveries are acknowledged."""
    client, delivery = Client(), _delivery()
    assert await handle_once(client, store, delivery, _write_note) is Outcome.HANDLED
    assert await handle_once(client, store, _delivery(offset=8), _write_note) is Outcome.DUPLICATE
    assert await _notes(store) == [MESSAGE_ID]
    assert client.acked == [7, 8]


async def test_a_handler_that_raises_stores_neither_effect_nor_id(store: ProcessedMessages) -> None:
    """The effect written, then the handler fails: both roll back, nothing is acknowledged, a retry handles it."""

    async def fails_after_writing(message: ApplicationTransfer | SiltaMessage, tx: AsyncConnection) -> None:
        await _write_note(message, tx)
        raise RuntimeError("the case system's own check failed")

    client, delivery = Client(), _delivery()
    with pytest.raises(RuntimeError, match="own check"):
        await handle_once(client, store, delivery, fails_after_writing)
    assert await _notes(store) == []
    assert not await store.seen(MESSAGE_ID)
    assert client.acked == []
    assert await handle_once(client, store, delivery, _write_note) is Outcome.HANDLED
    assert await _notes(store) == [MESSAGE_ID]


async def test_a_crash_between_the_commit_and_the_offset_commit_skips_the_redelivery(tmp_path: Path) -> None:
    """Stored, then killed before the offset commit: after a restart the record comes again and is only acknowledged."""
    path = tmp_path / "case-system.db"
    first_run = await _open(path)
    with pytest.raises(CrashBeforeOffsetCommitError):
        await handle_once(Client(crash=True), first_run, _delivery(), _write_note)
    await first_run.close()

    calls: list[str] = []

    async def counting(message: ApplicationTransfer | SiltaMessage, tx: AsyncConnection) -> None:
        calls.append(message.envelope.message_id)
        await _write_note(message, tx)

    restarted, client = await _open(path), Client()
    try:
        assert await handle_once(client, restarted, _delivery(), counting) is Outcome.DUPLICATE
        assert calls == []
        assert client.acked == [7]
        assert len(await _notes(restarted)) == 1
    finally:
        await restarted.close()
