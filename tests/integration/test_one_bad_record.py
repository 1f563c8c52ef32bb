"""One bad record never stops the bus: duplicates answered, failures kept to their record, partitions independent."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from adapters.municipality.client import Delivery
from adapters.municipality.messages import SiltaMessage
from broker.domain.clock import SystemClock
from broker.kafka.inbound import InboundConsumer
from broker.services.inbound import InboundOutcome, InboundRecord
from broker.store.tables import MessageRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items, send_as_organiser
from tests.integration.kafka_helpers import collect

pytestmark = pytest.mark.integration


def _position(delivery: Delivery) -> str | None:
    return delivery.headers.get("silta-receipted-position")


def _with_created_at(document: bytes, created_at: str) -> bytes:
    return re.sub(
        rb"<env:CreatedAt>[^<]*</env:CreatedAt>", f"<env:CreatedAt>{created_at}</env:CreatedAt>".encode(), document
    )


async def test_an_exact_duplicate_record_gets_the_same_answer_again(
    api: httpx.AsyncClient, kafka: LocalKafka, services: Runtime, token_for: Callable[..., str]
) -> None:
    """The same decision notice sent twice: two accepted receipts, as on REST, and one message in Kela's inbox."""
    document = example_message("decision-notice", message_id=str(uuid.uuid4()))
    first = await send_as_organiser(kafka, document)
    again = await send_as_organiser(kafka, document)
    await inbox_items(api, token_for(), {first.message_id})
    positions = {f"silta.from.hva-08.v1/{sent.partition}/{sent.offset}" for sent in (first, again)}
    receipts = await collect(kafka, "hva-08", positions, by=_position)
    outcomes = [d.message.text("Outcome") for d in receipts if isinstance(d.message, SiltaMessage)]
    assert outcomes == ["accepted", "accepted"]
    async with services.sessions() as session:
        stored = await session.execute(
            select(MessageRecord.message_id).where(MessageRecord.message_id == first.message_id)
        )
        assert len(stored.all()) == 1


async def test_a_record_with_an_edge_value_never_holds_back_the_records_behind_it_or_other_organisers(
    api: httpx.AsyncClient, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """`CreatedAt` 24:00:00 (valid xs:dateTime): it ends with a receipt, and the records after it arrive."""
    odd = _with_created_at(example_message("decision-notice", message_id=str(uuid.uuid4())), "2025-03-10T24:00:00Z")
    bad = await send_as_organiser(kafka, odd, check=False)  # the organiser's own client would refuse it
    behind = await send_as_organiser(kafka, example_message("decision-notice", case_id="unchecked-case"))
    assert bad.partition == behind.partition  # same key: the good one waits behind the odd one
    other_org = example_message("decision-notice", message_id=str(uuid.uuid4())).replace(
        b"<env:Sender>hva-08</env:Sender>", b"<env:Sender>hva-03</env:Sender>"
    )
    elsewhere = await send_as_organiser(kafka, other_org, org="hva-03")
    await inbox_items(api, token_for(), {behind.message_id, elsewhere.message_id})
    position = f"silta.from.hva-08.v1/{bad.partition}/{bad.offset}"
    [receipt] = await collect(kafka, "hva-08", {position}, by=_position)
    assert isinstance(receipt.message, SiltaMessage)
    outcome = receipt.message.text("Outcome")
    assert outcome == "accepted" or receipt.message.text("Errors/Error/Code")


class _StuckOnOneOrganiser:
    """A record handler that never finishes hva-08's records and takes every other one at once."""

    def __init__(self) -> None:
        self.handled: list[str] = []
        self.stuck = asyncio.Event()
        self.other_handled = asyncio.Event()

    async def process(self, record: InboundRecord) -> InboundOutcome:
        if record.position.topic == "silta.from.hva-08.v1":
            self.stuck.set()
            await asyncio.Event().wait()  # never returns: the partition is stuck
        self.handled.append(record.position.topic)
        if record.position.topic == "silta.from.hva-03.v1":
            self.other_handled.set()
        return InboundOutcome.ACCEPTED


async def test_a_stuck_partition_never_holds_back_another_organisers_topic(kafka: LocalKafka) -> None:
    """hva-08's partition is stuck on a record; hva-03's record is handled meanwhile, and the stall is reported."""
    handler = _StuckOnOneOrganiser()
    consumer = InboundConsumer(
        kafka.connection(), f"silta-test-{uuid.uuid4().hex}", handler, max_records=10, clock=SystemClock()
    )
    consumer.start()
    try:
        await send_as_organiser(kafka, example_message("decision-notice", message_id=str(uuid.uuid4())))
        await send_as_organiser(kafka, example_message("decision-notice", message_id=str(uuid.uuid4())))
        await asyncio.wait_for(handler.stuck.wait(), 60)
        other = example_message("decision-notice", message_id=str(uuid.uuid4())).replace(
            b"<env:Sender>hva-08</env:Sender>", b"<env:Sender>hva-03</env:Sender>"
        )
        await send_as_organiser(kafka, other, org="hva-03")
        await asyncio.wait_for(handler.other_handled.wait(), 60)
        assert "silta.from.hva-08.v1" not in handler.handled  # other tests' records on other topics may come too
        stalled = {stall.partition.split("/")[0] for stall in consumer.stalls(longer_than_s=0)}
        assert "silta.from.hva-08.v1" in stalled
    finally:
        await consumer.stop()
