"""Deadlines per message type: Finnish working days, due dates, reminder horizons and the notices' documents."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from broker.crypto.ids import MessageIds
from broker.domain.catalogue import APPLICATION_TRANSFER, CATALOGUE, INFORMATION_REQUEST, RECEIPT
from broker.domain.deadlines import Awaited, finnish_midnight, published_by, reminder_horizon
from broker.domain.lifecycle import Event, Status, advance
from broker.domain.working_days import add_working_days, easter_sunday, is_working_day, latest_start
from broker.services.receipts import DeadlineNotice, ReceiptWriter
from broker.settings import Settings
from entrypoints.bootstrap import build_pipeline

PIPELINE = build_pipeline(Settings())
_DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("year", "easter"), [(2024, dt.date(2024, 3, 31)), (2025, dt.date(2025, 4, 20)), (2026, dt.date(2026, 4, 5))]
)
def test_easter_sunday_is_computed_for_the_gregorian_calendar(year: int, easter: dt.date) -> None:
    """Good Friday, Easter Monday and Ascension Day hang on Easter: its date must be right."""
    assert easter_sunday(year) == easter


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 1, 6),  # Epiphany, a Tuesday
        dt.date(2026, 4, 3),  # Good Friday
        dt.date(2026, 4, 6),  # Easter Monday
        dt.date(2026, 5, 14),  # Ascension Day
        dt.date(2026, 6, 19),  # Midsummer Eve, offices closed
        dt.date(2025, 12, 24),  # Christmas Eve, offices closed
        dt.date(2026, 12, 5),  # a Saturday
    ],
)
def test_holidays_eves_and_weekends_are_not_working_days(day: dt.date) -> None:
    """Public holidays, Midsummer and Christmas Eve and weekends do not count towards a response time."""
    assert not is_working_day(day)


def test_working_days_skip_weekends_and_holidays() -> None:
    """Counted from the day after the start: over Independence Day and over Christmas."""
    assert add_working_days(dt.date(2026, 12, 3), 3) == dt.date(2026, 12, 8)  # from a Thursday: Fri, Mon, Tue
    assert add_working_days(dt.date(2025, 12, 5), 1) == dt.date(2025, 12, 8)
    assert add_working_days(dt.date(2026, 12, 23), 1) == dt.date(2026, 12, 28)  # 24-27 closed
    assert add_working_days(dt.date(2026, 12, 5), 0) == dt.date(2026, 12, 7)


@given(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 15))
def test_latest_start_is_the_inverse_of_adding_working_days(due_by: dt.date, count: int) -> None:
    """Published on or before `latest_start` means due by `due_by`; a day later means due after it."""
    start = latest_start(count, due_by)
    assert add_working_days(start, count) <= due_by
    assert add_working_days(start + _DAY, count) > due_by


def test_published_by_is_the_finnish_midnight_after_the_last_start_day() -> None:
    """Three working days due by Tue 8 Dec 2026: published by Thu 3 Dec Finnish time, i.e. before 22:00 UTC."""
    assert published_by(3, dt.date(2026, 12, 8)) == dt.datetime(2026, 12, 3, 22, 0, tzinfo=dt.UTC)
    assert finnish_midnight(dt.date(2026, 6, 1)) == dt.datetime(2026, 5, 31, 21, 0, tzinfo=dt.UTC)


def test_the_reminder_horizon_is_the_lead_time_in_working_days_ahead() -> None:
    """On Friday 4 Dec 2026 with two days' lead, deadlines up to Tuesday 8 Dec are near (6 Dec is a Sunday)."""
    assert reminder_horizon(dt.date(2026, 12, 4), 2) == dt.date(2026, 12, 8)


def test_an_information_request_is_due_on_its_own_date_or_after_seven_working_days() -> None:
    """18 a §/18 g §: the due date the request names wins; without one the agreed 7 working days apply."""
    deadline = INFORMATION_REQUEST.deadline
    assert deadline is not None
    assert deadline.due_on(dt.date(2026, 12, 1), dt.date(2026, 12, 21)) == dt.date(2026, 12, 21)
    assert deadline.due_on(dt.date(2026, 12, 1), None) == dt.date(2026, 12, 10)  # from a Tuesday
    assert deadline.awaits is Awaited.ANSWER
    assert deadline.reminds


def test_a_transfer_expects_a_business_receipt_within_three_working_days() -> None:
    """An application transfer published on Friday 4 Dec 2026 is due on Wednesday 9 Dec (6 Dec a Sunday)."""
    deadline = APPLICATION_TRANSFER.deadline
    assert deadline is not None
    assert deadline.awaits is Awaited.BUSINESS_RECEIPT
    assert deadline.due_on(dt.date(2026, 12, 4), None) == dt.date(2026, 12, 9)
    assert Status.RECEIVED not in deadline.awaits.unmet


@pytest.mark.parametrize("name", ["basic-decision-notice", "reduction-notice", "decision-notice"])
def test_decision_notices_expect_only_silta_s_technical_receipt(name: str) -> None:
    """A decision notice asks nothing: its deadline is delivery within the receipt timeout, no reminder."""
    deadline = CATALOGUE[name].deadline
    assert deadline is not None
    assert deadline.awaits.unmet == (Status.ACCEPTED,)
    assert deadline.working_days is None
    assert not deadline.reminds
    assert deadline.due_on(dt.date(2026, 12, 3), None) is None


def test_every_deadline_names_answer_types_of_the_catalogue_and_its_basis() -> None:
    """The answer types exist and answer the type (or are receipts); every basis cites a section or an agreement."""
    for message_type in CATALOGUE.values():
        deadline = message_type.deadline
        if deadline is None:
            continue
        for answer in deadline.answered_by:
            answers = CATALOGUE[answer].answers
            assert answers is not None
            assert answer == RECEIPT.name or message_type.name in answers
        assert "§" in deadline.basis or deadline.basis.startswith("agreed")


def test_a_reminder_due_step_is_a_flag_beside_the_status() -> None:
    """Silta's `reminder-due` step leaves the status as it is, even for a closed message."""
    assert advance(Status.PUBLISHED, Event.REMINDER_DUE) is Status.PUBLISHED
    assert advance(Status.ANSWERED, Event.REMINDER_DUE) is Status.ANSWERED


@pytest.mark.parametrize(
    ("event", "recipient"), [(Event.REMINDER_DUE, "hva-08"), (Event.OVERDUE, "kela"), (Event.OVERDUE, "hva-08")]
)
def test_a_deadline_notice_is_a_valid_receipt_that_the_filter_leaves_whole(event: Event, recipient: str) -> None:
    """The notice validates against receipt 1.1 and its policy lets every field reach the recipient's role."""
    writer = ReceiptWriter(MessageIds(b"k" * 32))
    notice = DeadlineNotice(event, "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f", recipient, "KELA-1", dt.date(2026, 12, 9))
    message = writer.deadline_notice(notice, dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC))
    root = etree.fromstring(message.record.value)
    ns = {"r": RECEIPT.namespace}
    assert (root.findtext("r:Outcome", namespaces=ns), root.findtext("r:DueDate", namespaces=ns)) == (
        str(event),
        "2026-12-09",
    )
    filtered = PIPELINE.filter_for(root, recipient, RECEIPT, RECEIPT.schema_version)
    assert filtered.removed == {}
    assert message.disclosure.data_subject is None


def test_the_same_notice_gets_the_same_id_and_the_next_one_another() -> None:
    """The notice id is derived from message, kind and count: a second sweep could not store it twice."""
    writer = ReceiptWriter(MessageIds(b"k" * 32))
    at = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)

    def notice_id(event: Event, count: int) -> str:
        return writer.deadline_notice(DeadlineNotice(event, "m-1", "kela", "c", None, count), at).message_id

    assert notice_id(Event.OVERDUE, 1) == notice_id(Event.OVERDUE, 1)
    assert len({notice_id(Event.OVERDUE, 1), notice_id(Event.OVERDUE, 2), notice_id(Event.REMINDER_DUE, 1)}) == 3
