"""The inbound consumer's lag per partition: highwater minus the record being handled, else the last commit."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from aiokafka import TopicPartition

from broker.domain.clock import ManualClock
from broker.kafka.inbound import InboundConsumer

_BUSY, _DONE, _FRESH, _UNFETCHED = (TopicPartition("silta.from.hva-08.v1", n) for n in range(4))


class _Consumer:
    """What `lag` reads of aiokafka's consumer: the assignment and each partition's highwater."""

    def __init__(self, highwaters: dict[TopicPartition, int | None]) -> None:
        self._highwaters = highwaters

    def assignment(self) -> set[TopicPartition]:
        """The partitions assigned."""
        return set(self._highwaters)

    def highwater(self, tp: TopicPartition) -> int | None:
        """The last highwater a fetch reported."""
        return self._highwaters[tp]


def test_lag_counts_from_the_record_in_hand_or_the_last_commit() -> None:
    """Busy on offset 4 of 10: 6 behind; committed up to 7 of 9: 2; nothing handled yet: 0; never fetched: absent."""
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    inbound = InboundConsumer(cast(Any, None), "group", cast(Any, None), max_records=10, clock=clock)
    inbound._consumer = cast(Any, _Consumer({_BUSY: 10, _DONE: 9, _FRESH: 5, _UNFETCHED: None}))
    inbound._current[_BUSY] = (4, clock.now())
    inbound._committed[_DONE] = 7
    topic = "silta.from.hva-08.v1"
    assert inbound.lag() == {(topic, 0): 6, (topic, 1): 2, (topic, 2): 0}


def test_no_lag_is_reported_while_the_consumer_is_not_running() -> None:
    """Before the consumer has started (or after it stopped), no partition is reported."""
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    inbound = InboundConsumer(cast(Any, None), "group", cast(Any, None), max_records=10, clock=clock)
    assert inbound.lag() == {}


def test_a_revoked_partitions_last_commit_is_forgotten() -> None:
    """After a rebalance takes a partition away and gives it back, an old commit does not inflate its lag."""
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    inbound = InboundConsumer(cast(Any, None), "group", cast(Any, None), max_records=10, clock=clock)
    inbound._consumer = cast(Any, _Consumer({_DONE: 9}))
    inbound._committed[_DONE] = 2
    inbound.forget([_DONE])
    assert inbound.lag() == {("silta.from.hva-08.v1", 1): 0}


def test_lag_in_seconds_is_the_age_of_the_waiting_record() -> None:
    """In hand: that record's age; between batches: the last handled one's age (an upper bound); caught up: 0."""
    clock = ManualClock(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC))
    inbound = InboundConsumer(cast(Any, None), "group", cast(Any, None), max_records=10, clock=clock)
    inbound._consumer = cast(Any, _Consumer({_BUSY: 10, _DONE: 9, _FRESH: 5}))
    now_ms = int(clock.now().timestamp() * 1000)
    inbound._current[_BUSY] = (4, clock.now())
    inbound._record_times[_BUSY] = now_ms - 90_500
    inbound._committed[_DONE] = 7
    inbound._record_times[_DONE] = now_ms - 2_000
    inbound._record_times[_FRESH] = now_ms - 60_000  # caught up: an old record's age is no lag
    topic = "silta.from.hva-08.v1"
    assert inbound.lag_seconds() == {(topic, 0): 90.5, (topic, 1): 2.0, (topic, 2): 0.0}
    clock.advance(dt.timedelta(seconds=10))
    assert inbound.lag_seconds()[topic, 0] == 100.5
