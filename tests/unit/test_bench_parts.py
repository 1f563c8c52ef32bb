"""The bench's pure parts: percentiles, the pacing schedule, RSS growth, padded documents, answers, profiles."""

from __future__ import annotations

import cProfile
import math
from pathlib import Path

import pytest
from lxml import etree

from bench.figures import latencies, percentile
from bench.profile import Profiler, top_sampled
from bench.rss import RssSeries, rss_growth, thinned
from bench.workload import answered, padded_transfer, send_schedule, transfer_return
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.settings import PROJECT_ROOT
from broker.xml.validation import SchemaRegistry

MESSAGE_ID = "0b9a4c1e-8f7d-4e6a-9b2c-3d4e5f6a7b8c"
SCHEMAS = SchemaRegistry(PROJECT_ROOT / "schemas")


def _valid(document: bytes) -> bool:
    root = etree.fromstring(document)
    return SCHEMAS.is_valid(root, SCHEMAS.message_type_of(root))


def _envelope(document: bytes, field: str) -> str | None:
    return etree.fromstring(document).findtext(f".//{{{ENVELOPE_NAMESPACE}}}{field}")


def test_percentiles_are_inclusive_and_in_milliseconds() -> None:
    """1..100 ms: p50 is 50.5 ms and p99 99.01 ms; one value is every percentile; none is nan."""
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([0.25], 99) == pytest.approx(250)
    assert math.isnan(percentile([], 50))


def test_latencies_pair_start_and_finish_by_id() -> None:
    """Only ids with both times count, and a clock step backwards is no negative latency."""
    assert sorted(latencies({"a": 1.0, "b": 2.0, "c": 5.0}, {"a": 1.5, "b": 1.9, "d": 9.0})) == [0.0, 0.5]


def test_paced_schedule_spaces_messages_evenly_and_unpaced_sends_at_once() -> None:
    """At 400/s the sends are 2.5 ms apart from 0; without a rate they are all due at the start."""
    assert send_schedule(4, 400) == pytest.approx([0.0, 0.0025, 0.005, 0.0075])
    assert send_schedule(3, None) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="positive"):
        send_schedule(3, 0)


def test_rss_growth_counts_from_the_end_of_the_warm_up_to_the_last_sample() -> None:
    """Warm-up is the first fifth: growth is measured from the second of five samples (100 → 132 is 32 %)."""
    assert rss_growth([60, 100, 110, 120, 132]) == pytest.approx(32.0)
    assert rss_growth([100, 100, 100, 100, 95]) == pytest.approx(-5.0)
    assert math.isnan(rss_growth([100]))
    series = RssSeries(samples=[(2.0 * i, 100 + i) for i in range(10)])
    assert series.growth_after_warmup(0.5) == pytest.approx((109 - 105) / 105 * 100)


def test_the_printed_series_is_short_and_keeps_the_first_and_the_last_sample() -> None:
    """A long series is thinned evenly to at most the wanted length; a short one is left whole."""
    shown = thinned(list(range(100)), 12)
    assert len(shown) == 12
    assert (shown[0], shown[-1]) == (0, 99)
    assert thinned([1, 2, 3], 12) == [1, 2, 3]


@pytest.mark.parametrize("size", [2500, 5000, 20_000, 55_000])
def test_a_padded_transfer_has_the_size_asked_for_and_stays_valid(size: int) -> None:
    """Padding with cost items hits the size to the byte and the document still passes its XSD."""
    document = padded_transfer(MESSAGE_ID, size)
    assert len(document) == size
    assert _valid(document)
    assert _envelope(document, "MessageId") == MESSAGE_ID


def test_padding_never_shrinks_the_sample_nor_breaks_the_schema_limits() -> None:
    """Below the sample's size the sample is sent as it is; past 50 cost items the size is refused."""
    sample = padded_transfer(MESSAGE_ID, 0)
    assert len(padded_transfer(MESSAGE_ID, len(sample) + 10)) == len(sample)  # no cost item fits in 10 bytes
    assert _valid(sample)
    with pytest.raises(ValueError, match="50 cost items"):
        padded_transfer(MESSAGE_ID, 100_000)


def test_the_organiser_answers_the_share_asked_for_spread_through_the_run() -> None:
    """0.3 of 300 transfers is 90, every 10 consecutive ones holding 3; 0 answers none and 1 all."""
    ids = [str(i) for i in range(300)]
    chosen = answered(ids, 0.3)
    assert len(chosen) == 90
    assert all(len(chosen & set(ids[i : i + 10])) == 3 for i in range(0, 300, 10))
    assert answered(ids, 0) == set()
    assert answered(ids, 1) == set(ids)
    with pytest.raises(ValueError, match="between 0 and 1"):
        answered(ids, 1.5)


def test_an_answer_is_a_valid_transfer_return_from_the_organiser_to_what_it_answers() -> None:
    """The transfer return names hva-90 as sender and the transfer as what it answers, passes its XSD, has a new id."""
    document = transfer_return(MESSAGE_ID)
    assert _valid(document)
    assert _envelope(document, "Sender") == "hva-90"
    assert _envelope(document, "CorrelationId") == MESSAGE_ID
    assert _envelope(document, "MessageId") != _envelope(transfer_return(MESSAGE_ID), "MessageId")  # each its own id


def test_the_sampled_profile_ranks_functions_by_their_own_samples_whatever_the_line() -> None:
    """py-spy's collapsed stacks: leaf frames summed per function (lines merged), largest first; native-only skipped."""
    collapsed = "\n".join(
        [
            "main (app.py:1);seal (sealing.py:10) 30",
            "main (app.py:1);seal (sealing.py:12) 20",
            "main (app.py:1);parse (xml.py:5) 40",
            "main (app.py:1) 10",
            'process 4242:"python -m entrypoints.cli serve";main (app.py:1);seal (sealing.py:11) 0',
            'process 4242:"python -m entrypoints.cli serve" 99',
            'process 4242:"serve";process 4243:"python -c from multiprocessing import spawn_main; spawn_main()" 7',
            "not a stack line",
        ]
    )
    assert top_sampled(collapsed, 2) == [" 50.0 %  seal (sealing.py)", " 40.0 %  parse (xml.py)"]


def _busy() -> int:
    return sum(i * i for i in range(200_000))


def test_without_py_spy_the_service_runs_under_cprofile_and_its_busiest_functions_come_first(tmp_path: Path) -> None:
    """The fallback wraps `python -m …` in cProfile and ranks its functions by their own time."""
    profiler = Profiler("cProfile", tmp_path / "profile.pstats")
    command = profiler.command(["python", "-m", "entrypoints.cli", "serve"])
    assert command == ["python", "-m", "cProfile", "-o", str(profiler.output), "-m", "entrypoints.cli", "serve"]
    profile = cProfile.Profile()
    profile.runcall(_busy)
    profile.dump_stats(profiler.output)
    top = profiler.top(3)
    assert len(top) == 3
    assert any("<genexpr>" in line or "_busy" in line for line in top[:2])
