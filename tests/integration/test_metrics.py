"""`/metrics` after some traffic: each operations series with the numbers the traffic explains.

Counters and the histogram are process-wide (earlier tests count too), so
those are checked as differences across the test; the gauges come from this
test's own database and are checked exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from broker.settings import Settings
from broker.store.tables import MessageRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.integration.both_ways import inbox_items, post_as_kela, send_as_organiser
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


async def _samples(api: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on `/metrics`, by name and labels."""
    answer = await api.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent (a gauge whose count fell to zero)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _kela_sends(api: httpx.AsyncClient, token: str, count: int) -> list[str]:
    """Kela posts `count` application transfers; their message ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for message_id in ids:
        assert (await post_as_kela(api, token, application_transfer(message_id))).status_code == 202
    return ids


async def _kela_notices(api: httpx.AsyncClient, token: str, count: int) -> list[str]:
    """Kela posts `count` unemployment notices (their deadline is the receipt timeout); their message ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for message_id in ids:
        document = example_message("unemployment-notice", message_id=message_id, municipality="091")
        assert (await post_as_kela(api, token, document)).status_code == 202
    return ids


async def _recipient(services: Runtime, message_id: str) -> str:
    async with services.sessions() as session:
        recipient = await session.scalar(select(MessageRecord.recipient).where(MessageRecord.message_id == message_id))
    assert recipient is not None
    return recipient


class TestWithTheRelayStopped:
    """Nothing is published: the outbox backlog stays where the traffic left it."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """The integration settings without the relay."""
        return settings.model_copy(update={"relay_enabled": False})

    async def test_outbox_pending_counts_each_recipients_unpublished_records(
        self, api: httpx.AsyncClient, services: Runtime, token_for: Callable[..., str]
    ) -> None:
        """Three transfers accepted over REST: `silta_outbox_pending` is 3 for their recipient, rest counter +3."""
        before = await _samples(api)
        ids = await _kela_sends(api, token_for(), 3)
        recipient = await _recipient(services, ids[0])
        after = await _samples(api)
        assert _value(after, "silta_outbox_pending", recipient=recipient) == 3
        accepted = {"message_type": "application-transfer", "channel": "rest"}
        delta = _value(after, "silta_messages_accepted_total", **accepted) - _value(
            before, "silta_messages_accepted_total", **accepted
        )
        assert delta == 3


class TestWithOverdueAtOnce:
    """Receipts are due at once and the overdue watch runs often: every unreceipted notice is overdue.

    (Notices: their deadline is the receipt timeout; a transfer's is three working days of its own.)
    """

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """The integration settings with a receipt timeout of a few milliseconds."""
        return settings.model_copy(update={"receipt_timeout_hours": 0.000001, "overdue_check_interval_s": 0.2})

    async def test_delivery_latency_backlog_overdue_and_kafka_channel(
        self, api: httpx.AsyncClient, services: Runtime, kafka: LocalKafka, token_for: Callable[..., str]
    ) -> None:
        """Two Kela notices published and never receipted, one organiser notice accepted, one bad record parked.

        The histogram counts both publications, the backlog drains to 0, both notices are overdue for their
        recipient, the Kafka channel counts the notice, the parked gauge shows the bad record's reason,
        and the organiser's partition shows no lag once handled.
        """
        before = await _samples(api)
        ids = await _kela_notices(api, token_for(), 2)
        recipient = await _recipient(services, ids[0])
        bad = await send_as_organiser(kafka, b"<DecisionNotice><unclosed>", check=False)
        good = await send_as_organiser(kafka, example_message("decision-notice", case_id="unchecked-case"))
        await inbox_items(api, token_for(), {good.message_id})

        async def settled() -> bool:
            now = await _samples(api)
            return _value(now, "silta_overdue_requests", party=recipient) == 2

        await wait_until(settled, 20, interval_s=0.2, what="both notices flagged overdue")
        after = await _samples(api)
        assert _value(after, "silta_outbox_pending", recipient=recipient) == 0
        assert _value(after, "silta_parked_records", reason="xml-not-well-formed") == 1
        published = _value(after, "silta_delivery_seconds_count") - _value(before, "silta_delivery_seconds_count")
        assert published >= 3  # two notices, the organiser's notice into Kela's inbox (and receipts to the organiser)
        kafka_accepted = {"message_type": "decision-notice", "channel": "kafka"}
        delta = _value(after, "silta_messages_accepted_total", **kafka_accepted) - _value(
            before, "silta_messages_accepted_total", **kafka_accepted
        )
        assert delta >= 1  # records earlier tests left on the bus may reach this app too
        assert (
            _value(after, "silta_consumer_lag_records", topic="silta.from.hva-08.v1", partition=str(bad.partition)) == 0
        )
        assert (
            "silta_consumer_lag_records",
            frozenset({("topic", "silta.from.hva-08.v1"), ("partition", str(bad.partition))}),
        ) in after
