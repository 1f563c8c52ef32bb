"""The independent checker: what reached the topics and Kela's inbox, against what the applications saw.

It reads every to-topic (`silta.to.<party>.v1`) from the beginning with an
operator's credential (Silta's super user; it opens no record, the headers
say the message id, type, correlation and the key the case), reads Kela's
inbox from cursor 0 over REST, counts what is left in the outbox, runs
`silta audit verify`, and sets all that beside the workload's ledger. It
prints one summary block; `ok` is true only if nothing was lost, doubled or
reordered and the audit chain verifies.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from broker.domain import headers as hdr
from broker.kafka.connection import KafkaConnection
from chaos.kela import KelaApi


@dataclass
class TopicScan:
    """What the to-topics hold, by message id."""

    copies: Counter[str] = field(default_factory=Counter)
    order: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    """(topic, record key) → message ids in offset order, first copies only."""
    receipts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """A message id → the distinct ids of the receipts on the topics that answer it (technical and business)."""


async def scan_to_topics(connection: KafkaConnection) -> TopicScan:
    """Read every record of every `silta.to.*` topic, up to the ends as they are now."""
    scan = TopicScan()
    partitions = await to_topic_partitions(connection)
    consumer = AIOKafkaConsumer(**connection.client_options(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = {tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end > 0}
        if not ends:
            return scan
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        while await _behind(consumer, ends):
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            for records in batches.values():
                for record in records:
                    _count(scan, record)
    finally:
        await consumer.stop()
    return scan


async def to_topic_partitions(connection: KafkaConnection) -> list[TopicPartition]:
    """Every partition of every `silta.to.*` topic, from the cluster's metadata."""
    admin = AIOKafkaAdminClient(**connection.client_options())
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith("silta.to."))
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """True while some partition is not yet read to its end."""
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


def _count(scan: TopicScan, record: object) -> None:
    headers = {name: (value or b"").decode() for name, value in record.headers}  # type: ignore[attr-defined]
    message_id = headers.get(hdr.MESSAGE_ID, "?")
    scan.copies[message_id] += 1
    if scan.copies[message_id] > 1:
        return
    key = record.key.decode() if record.key else ""  # type: ignore[attr-defined]
    scan.order[record.topic, key].append(message_id)  # type: ignore[attr-defined]
    if headers.get(hdr.MESSAGE_TYPE) == "receipt" and headers.get(hdr.CORRELATION_ID):
        scan.receipts[headers[hdr.CORRELATION_ID]].add(message_id)


async def scan_inbox(api: KelaApi, token: str) -> dict[str, int]:
    """Kela's inbox from cursor 0, every page: message id → cursor (unreceipted entries only)."""
    found: dict[str, int] = {}
    cursor = "0"
    while True:
        answer = await api.call("GET", "/kela/v1/inbox", token, params={"after": cursor, "limit": 500})
        answer.raise_for_status()
        page = answer.json()
        if not page["items"]:
            return found
        found.update({item["message_id"]: int(item["cursor"]) for item in page["items"]})
        cursor = page["next_cursor"]


async def outbox_left(database_url: str) -> int:
    """Outbox rows not yet published."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            pending = await connection.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
    finally:
        await engine.dispose()
    return int(pending or 0)


def audit_verify(env: dict[str, str]) -> tuple[bool, list[str]]:
    """`silta audit verify` against the run's database and checkpoint file: (verifies, its output lines)."""
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode == 0, lines
