"""One bad record never stops the bus: fuzzed schema-valid documents on an organiser's real topic.

A sample of generated documents of every type an organiser sends (and the
inbound corpus) is produced to `silta.from.hva-08.v1` with the app running.
Each must end in Kela's inbox or with a coded technical receipt, the consumer
group's committed offsets must move past them, and a valid record produced
right behind them, on the same partition, must still arrive.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import Callable

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.municipality.messages import SiltaMessage
from adapters.municipality.sender import OrganiserSender, Outgoing, SentMessage
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.errors import ErrorCode
from broker.settings import PROJECT_ROOT, Settings
from devinfra.kafka import LocalKafka
from devinfra.samples import example_message
from tests.conftest import party_keys, silta_keys
from tests.integration.both_ways import inbox_items
from tests.integration.kafka_helpers import collect, correlation_id
from tests.support.xsd_strategies import any_organiser_document

pytestmark = pytest.mark.integration
ORG = "hva-08"
SAMPLE_SIZE = int(os.environ.get("SILTA_FUZZ_RECORDS", "30"))
CORPUS = sorted((PROJECT_ROOT / "tests" / "corpus" / "inbound").glob("*.xml"))
CODES = {str(code) for code in ErrorCode}
SAMPLING = settings(database=None, phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))


def draw_sample(strategy: st.SearchStrategy[bytes], size: int, from_seed: int) -> list[bytes]:
    """`size` documents drawn from `strategy`, reproducibly for one seed (no shrinking, no database)."""
    drawn: list[bytes] = []

    @seed(from_seed)
    @settings(SAMPLING, max_examples=size)
    @given(strategy)
    def keep(document: bytes) -> None:
        drawn.append(document)

    keep()
    return drawn


def with_fresh_id(document: bytes) -> tuple[str, str, bytes]:
    """The document with a message id of its own (drawn ids repeat); returns (id, case id, document)."""
    root = etree.fromstring(document)
    message_id = str(uuid.uuid4())
    next(root.iter(f"{{{ENVELOPE_NAMESPACE}}}MessageId")).text = message_id
    case_id = next(root.iter(f"{{{ENVELOPE_NAMESPACE}}}CaseId")).text or ""
    return message_id, case_id, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


async def produce(kafka: LocalKafka, documents: list[bytes]) -> list[tuple[str, SentMessage]]:
    """Produce every document as it is (Silta must judge it, not the sender's client), in order."""
    sent = []
    async with OrganiserSender(ORG, kafka.connection(ORG), party_keys(ORG), silta_keys()) as sender:
        for document in documents:
            message_id, case_id, body = with_fresh_id(document)
            sent.append((message_id, await sender.send_unchecked(body, Outgoing(message_id, "fuzzed", case_id))))
    return sent


async def committed_offsets(kafka: LocalKafka, group: str) -> dict[TopicPartition, int]:
    """The consumer group's committed offsets."""
    admin = AIOKafkaAdminClient(**kafka.connection().client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def wait_until_committed_past(
    kafka: LocalKafka, group: str, last: dict[TopicPartition, int], timeout_s: float = 30
) -> None:
    """Poll until the group has committed beyond the last offset produced to each partition."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        committed = await committed_offsets(kafka, group)
        behind = {tp: offset for tp, offset in last.items() if committed.get(tp, -1) <= offset}
        if not behind:
            return
        assert loop.time() < deadline, f"offsets not committed past {behind}: committed {committed}"
        await asyncio.sleep(0.2)  # polling a condition, bounded by the deadline above


async def test_fuzzed_records_are_each_delivered_or_receipted_and_the_partition_moves_on(
    api: httpx.AsyncClient, kafka: LocalKafka, settings: Settings, token_for: Callable[..., str]
) -> None:
    """Every fuzzed record is in Kela's inbox or has a coded rejected receipt; offsets pass them; the next arrives."""
    sample_seed = random.SystemRandom().randrange(2**32)
    documents = [path.read_bytes() for path in CORPUS] + draw_sample(
        any_organiser_document(ORG), SAMPLE_SIZE, sample_seed
    )
    sent = await produce(kafka, documents)
    last_case = with_fresh_id(documents[-1])[1]
    valid = (await produce(kafka, [example_message("decision-notice", case_id=last_case)]))[0]

    ids = {message_id for message_id, _ in sent}
    receipts = await collect(kafka, ORG, ids | {valid[0]}, by=correlation_id, timeout_s=60)
    outcomes = {
        d.message.envelope.correlation_id or "": d.message for d in receipts if isinstance(d.message, SiltaMessage)
    }
    accepted = {i for i, m in outcomes.items() if m.text("Outcome") == "accepted"}
    rejected = {i: m.text("Errors/Error/Code") for i, m in outcomes.items() if m.text("Outcome") == "rejected"}
    assert set(rejected.values()) <= CODES, f"seed {sample_seed}: uncoded rejections {rejected}"
    assert accepted | set(rejected) == ids | {valid[0]}, f"seed {sample_seed}"
    assert valid[0] in accepted
    listed = await inbox_items(api, token_for(), accepted)
    assert {item["message_id"] for item in listed} == accepted

    last: dict[TopicPartition, int] = {}
    for _, record in [*sent, valid]:
        tp = TopicPartition(record.topic, record.partition)
        last[tp] = max(last.get(tp, -1), record.offset)
    assert valid[1].partition == sent[-1][1].partition  # the valid record queued behind the last fuzzed one
    await wait_until_committed_past(kafka, settings.inbound_group_id, last)
