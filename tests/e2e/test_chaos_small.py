"""`make chaos` at CI size: the whole harness as a separate process, with at least one fault of every kind."""

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


def test_a_small_chaos_run_loses_doubles_and_reorders_nothing() -> None:
    """200 messages under every kind of fault: exit 0, every summary line, nothing lost or doubled, chain verifies."""
    env = {**os.environ, "CHAOS_MESSAGES": "200", "CHAOS_SEED": "14"}
    run = subprocess.run(
        [sys.executable, "-m", "chaos"], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    out = run.stdout
    assert run.returncode == 0, out[-4000:] + run.stderr[-4000:]
    figures = {name: int(value) for name, value in re.findall(r"^([a-z ]+?) (\d+)\b", out, re.MULTILINE)}
    assert set(SUMMARY_LINES) <= set(figures), out
    assert figures["sent"] >= 200
    assert figures["accepted"] > 0
    assert (figures["lost"], figures["duplicated"], figures["out of order"]) == (0, 0, 0)
    assert figures["faults injected"] >= len(DEFAULT_COUNTS)
    injected = re.search(r"^faults injected \d+ \((.*)\)$", out, re.MULTILINE)
    assert injected is not None
    assert {part.rsplit(" ", 1)[0] for part in injected.group(1).split(", ")} == set(DEFAULT_COUNTS)
    assert re.search(r"^audit chain verifies: ", out, re.MULTILINE), out
    assert "verdict PASS" in out
