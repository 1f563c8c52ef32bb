"""The chaos run's pure parts: the seeded fault plan and the checker's verdict on a ledger."""
# ruff: noqa: S311
# (the fault plans here are seeded on purpose; nothing is secret)

from __future__ import annotations

import random
from collections import Counter

import pytest

from chaos.checker import TopicScan
from chaos.faults import DEFAULT_COUNTS, counts_from_setting, fault_counts, plan_faults
from chaos.ledger import Expected, Ledger
from chaos.summary import Findings, judge


def test_one_seed_gives_one_plan_and_another_seed_another() -> None:
    """The plan comes from the seed alone."""
    first, again = plan_faults(random.Random(7), 1000), plan_faults(random.Random(7), 1000)
    assert first == again
    assert plan_faults(random.Random(8), 1000) != first


def test_the_default_run_kills_ten_times_and_a_small_run_has_every_kind() -> None:
    """≥ 10 kills, ≥ 3 broker restarts, ≥ 3 PostgreSQL restarts at the default size; one of each kind at 200."""
    default = fault_counts(100_000)
    assert default["service-kill"] >= 10
    assert default["broker-restart"] >= 3
    assert default["postgres-fast"] + default["postgres-immediate"] >= 3
    assert set(fault_counts(200)) == set(DEFAULT_COUNTS)
    assert min(fault_counts(200).values()) >= 1


def test_chaos_faults_names_kinds_and_counts() -> None:
    """Empty: every kind, scaled; `kind:count` and bare kinds; `none`: no fault; an unknown kind is refused."""
    assert counts_from_setting("", 200) == fault_counts(200)
    assert counts_from_setting("service-kill:5, sigstop", 200) == {"service-kill": 5, "sigstop": 1}
    assert counts_from_setting("none", 200) == {}
    assert plan_faults(random.Random(1), 200, {}) == []
    with pytest.raises(ValueError, match="not a fault kind"):
        counts_from_setting("meteor-strike", 200)


def test_faults_fire_in_order_within_the_run() -> None:
    """Every fault point lies within 5–85 % of the messages, in firing order."""
    plan = plan_faults(random.Random(1), 2000)
    points = [fault.at for fault in plan]
    assert points == sorted(points)
    assert all(100 <= at <= 1700 for at in points)


def _ledger(*messages: Expected) -> Ledger:
    ledger = Ledger()
    for message in messages:
        ledger.record_sent(message)
        ledger.record_accepted(message.message_id)
    return ledger


def _findings(topics: TopicScan | None = None) -> Findings:
    return Findings(topics or TopicScan(), {}, 0, True, ["ok"], Counter({"service-kill": 1}))


TRANSFER = Expected("m1", "application-transfer", "kela", "hva-08", "case-1", 1)
LATE = Expected("m2", "late-attachment", "kela", "hva-08", "case-1", 2)


def test_a_clean_run_passes_with_every_summary_line() -> None:
    """Everything seen once, in order: the verdict passes and the block has every line the issue names."""
    ledger = _ledger(TRANSFER, LATE)
    for message in (TRANSFER, LATE):
        ledger.record_seen("hva-08", "case-1", message.message_id, "t/0/0")
    summary = judge(ledger, _findings())
    assert summary.ok
    text = "\n".join(summary.lines())
    for line in ("sent 2", "accepted 2", "delivered 2", "lost 0", "duplicated 0", "out of order 0"):
        assert f"\n{line}\n" in text
    for start in ("receipts missing ", "outbox left ", "faults injected 1", "audit chain verifies", "transport dup"):
        assert f"\n{start}" in text


def test_an_accepted_message_never_seen_is_lost() -> None:
    """Accepted but not delivered: counted lost, named, and the run fails."""
    ledger = _ledger(TRANSFER, LATE)
    ledger.record_seen("hva-08", "case-1", "m1", "t/0/0")
    summary = judge(ledger, _findings())
    assert summary.lost == ["m2"]
    assert not summary.ok


def test_a_repeat_is_absorbed_but_a_second_receipt_for_one_message_is_duplicated() -> None:
    """Same id twice: absorbed by the dedup; two receipt ids answering one message: a duplicated effect."""
    notice = Expected("n1", "decision-notice", "hva-08", "kela", "case-2", 1)
    ledger = _ledger(notice)
    ledger.record_seen("kela", "case-2", "n1", "inbox/1")
    assert not ledger.record_seen("kela", "case-2", "n1", "inbox/1")
    assert len(ledger.absorbed) == 1
    assert judge(ledger, _findings()).ok
    ledger.technical_receipts["n1"] += ["r1", "r2"]
    summary = judge(ledger, _findings())
    assert summary.duplicated == ["n1"]
    assert not summary.ok


def test_what_a_dedup_store_holds_back_is_absorbed_and_what_it_lets_through_twice_is_duplicated() -> None:
    """A held-back repeat is absorbed, not duplicated; an effect recorded twice (the store failed) is duplicated."""
    ledger = _ledger(TRANSFER)
    ledger.record_effect("hva-08", "case-1", "m1", "t/0/0")
    ledger.record_absorbed("hva-08", "m1", "t/0/0")
    summary = judge(ledger, _findings())
    assert (summary.duplicated, ledger.absorbed) == ([], ["hva-08 m1 (the same record again)"])
    assert summary.ok
    ledger.record_effect("hva-08", "case-1", "m1", "t/1/5")
    assert judge(ledger, _findings()).duplicated == ["m1"]
    assert ledger.first_seen_order["hva-08", "case-1"] == ["m1"]


def test_a_case_seen_in_another_order_than_sent_is_out_of_order() -> None:
    """The late attachment before its transfer, at the application or on the topic, fails the run."""
    ledger = _ledger(TRANSFER, LATE)
    ledger.record_seen("hva-08", "case-1", "m2", "t/0/0")
    ledger.record_seen("hva-08", "case-1", "m1", "t/0/1")
    assert judge(ledger, _findings()).out_of_order == ["case-1"]
    in_order = _ledger(TRANSFER, LATE)
    for message_id in ("m1", "m2"):
        in_order.record_seen("hva-08", "case-1", message_id, "t/0/0")
    topics = TopicScan()
    topics.order["silta.to.hva-08.v1", "case-1"] += ["m2", "m1"]
    assert judge(in_order, _findings(topics)).out_of_order == ["case-1"]


def test_an_audit_chain_that_does_not_verify_fails_the_run() -> None:
    """Nothing lost or doubled, but the chain fails to verify: the verdict fails."""
    findings = _findings()
    findings.audit_ok = False
    assert not judge(_ledger(), findings).ok
