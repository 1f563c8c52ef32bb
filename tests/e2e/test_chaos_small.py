"""`make chaos` at CI size: the whole harness as a separate process, with at least one fault of every kind.

CI runs it on the single broker (`CHAOS_BROKERS=1`): on the three-node cluster the same size takes about
5 to 7 minutes (286 s and 411 s measured) on a loaded machine, so the cluster run is the second test, marked `cluster`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from chaos.faults import DEFAULT_COUNTS

pytestmark = pytest.mark.e2e
SUMMARY_LINES = (
    "sent",
    "accepted",
    "delivered",
    "lost",
    "duplicated",
    "transport duplicates absorbed",
    "out of order",
    "receipts missing",
    "outbox left",
    "faults injected",
)


def _chaos(messages: int, brokers: int) -> subprocess.CompletedProcess[str]:
    """`python -m chaos` at `messages`, seed 14, on `brokers` brokers; asserts it passed with every summary line."""
    env = {**os.environ, "CHAOS_MESSAGES": str(messages), "CHAOS_SEED": "14", "CHAOS_BROKERS": str(brokers)}
    run = subprocess.run(
        [sys.executable, "-m", "chaos"], env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    out = run.stdout
    assert run.returncode == 0, out[-4000:] + run.stderr[-4000:]
    assert f"{brokers} broker(s)" in out
    figures = {name: int(value) for name, value in re.findall(r"^([a-z ]+?) (\d+)\b", out, re.MULTILINE)}
    assert set(SUMMARY_LINES) <= set(figures), out
    assert figures["sent"] >= messages
    assert figures["accepted"] > 0
    assert (figures["lost"], figures["duplicated"], figures["out of order"]) == (0, 0, 0)
    assert figures["faults injected"] >= len(DEFAULT_COUNTS)
    injected = re.search(r"^faults injected \d+ \((.*)\)$", out, re.MULTILINE)
    assert injected is not None
    assert {part.rsplit(" ", 1)[0] for part in injected.group(1).split(", ")} == set(DEFAULT_COUNTS)
    assert re.search(r"^audit chain verifies: ", out, re.MULTILINE), out
    assert "verdict PASS" in out
    return run


def test_a_small_chaos_run_loses_doubles_and_reorders_nothing() -> None:
    """200 messages on the single broker under every kind of fault: nothing lost or doubled, the chain verifies."""
    _chaos(200, brokers=1)


@pytest.mark.cluster
def test_a_small_chaos_run_on_the_cluster_loses_doubles_and_reorders_nothing() -> None:
    """150 messages on three brokers under every kind of fault, the busy partition's leader restarted, 30 s down."""
    run = _chaos(150, brokers=3)
    assert re.search(r"fault broker-restart on broker \d \(leader of silta\.to\.hva-08\.v1/0\)", run.stderr)
    assert re.search(r"fault broker-outage on broker \d down 30 s", run.stderr)
