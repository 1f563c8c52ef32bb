"""The dead-letter types: a filter's times are UTC, and replay counts add up by outcome."""

from __future__ import annotations

import datetime as dt

from broker.domain.dead_letters import DeadLetterFilter, ParkedState, ReplayCounts, ReplayOutcome


def test_a_filter_time_without_a_zone_is_taken_as_utc_and_one_with_a_zone_is_kept() -> None:
    """`since` naive becomes UTC; `until` in +02:00 stays as given; the state defaults to unresolved."""
    plus_two = dt.timezone(dt.timedelta(hours=2))
    wanted = DeadLetterFilter(since=dt.datetime(2026, 1, 1), until=dt.datetime(2026, 1, 2, tzinfo=plus_two))
    assert wanted.since == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert wanted.until is not None
    assert wanted.until.tzinfo is plus_two
    assert wanted.state is ParkedState.UNRESOLVED


def test_replay_counts_count_each_outcome_in_its_own_field() -> None:
    """Two delivered, one duplicate, one parked again, three skipped."""
    counts = ReplayCounts()
    outcomes = [ReplayOutcome.DELIVERED] * 2 + [ReplayOutcome.DUPLICATE, ReplayOutcome.PARKED_AGAIN]
    for outcome in [*outcomes, *[ReplayOutcome.SKIPPED] * 3]:
        counts.add(outcome)
    assert counts == ReplayCounts(delivered=2, duplicate=1, parked_again=1, skipped=3)
