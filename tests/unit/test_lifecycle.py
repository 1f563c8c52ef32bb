"""The lifecycle as data: one pure function moves a message's status on an event, or refuses it with a code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.domain.catalogue import CATALOGUE, CLOSING_TYPES
from broker.domain.errors import ErrorCode
from broker.domain.lifecycle import CLOSED, TRANSPORT, Event, IllegalTransition, Status, advance, is_open, moves


def test_transport_moves_a_message_forward_step_by_step() -> None:
    """Accepted → published → delivered → received, each by its own event."""
    status = Status.ACCEPTED
    for event, expected in [
        (Event.PUBLISHED, Status.PUBLISHED),
        (Event.DELIVERED, Status.DELIVERED),
        (Event.RECEIVED, Status.RECEIVED),
    ]:
        status = advance(status, event)
        assert status is expected


def test_late_news_of_transport_never_moves_a_message_back() -> None:
    """A technical receipt arriving after the business receipt leaves the message received."""
    assert advance(Status.RECEIVED, Event.DELIVERED) is Status.RECEIVED
    assert advance(Status.ANSWERED, Event.PUBLISHED) is Status.ANSWERED


@pytest.mark.parametrize(
    ("status", "event", "code"),
    [
        (Status.ANSWERED, Event.ANSWERED, ErrorCode.REQUEST_ALREADY_ANSWERED),
        (Status.ANSWERED, Event.CANCELLED, ErrorCode.REQUEST_ALREADY_ANSWERED),
        (Status.ANSWERED, Event.REMINDED, ErrorCode.REQUEST_ALREADY_ANSWERED),
        (Status.CANCELLED, Event.ANSWERED, ErrorCode.REQUEST_CANCELLED),
        (Status.CANCELLED, Event.REMINDED, ErrorCode.REQUEST_CANCELLED),
        (Status.RETURNED, Event.RETURNED, ErrorCode.TRANSITION_ILLEGAL),
    ],
)
def test_a_closed_message_refuses_what_would_reopen_or_close_it_again(
    status: Status, event: Event, code: ErrorCode
) -> None:
    """Answering a cancelled request, answering twice, reminding an answered one: refused with a stable code."""
    with pytest.raises(IllegalTransition) as refused:
        advance(status, event)
    assert refused.value.code is code


def test_flags_leave_the_status_as_it_is() -> None:
    """`reminded` and `overdue` are steps in the history beside the status."""
    assert advance(Status.DELIVERED, Event.REMINDED) is Status.DELIVERED
    assert advance(Status.ANSWERED, Event.OVERDUE) is Status.ANSWERED


def test_moves_lists_exactly_the_statuses_an_event_changes() -> None:
    """The set-wise update the store runs for `delivered` touches accepted and published messages only."""
    assert moves(Event.DELIVERED) == {Status.ACCEPTED: Status.DELIVERED, Status.PUBLISHED: Status.DELIVERED}
    assert moves(Event.OVERDUE) == {}
    assert set(moves(Event.ANSWERED)) == set(TRANSPORT)


def test_the_catalogue_says_which_types_open_and_close_a_request() -> None:
    """A request opens; a response and a cancellation close it; a reminder follows it up with a new due date."""
    assert [t.name for t in CATALOGUE.values() if t.opens_request] == ["information-request"]
    assert {"information-response", "information-request-cancellation"} == CLOSING_TYPES
    reminder = CATALOGUE["information-request-reminder"]
    assert reminder.follows_up
    assert reminder.answer_event is Event.REMINDED
    assert reminder.due_date_path == "NewDueDate"


@given(st.lists(st.sampled_from(list(Event)), max_size=30))
def test_random_event_sequences_keep_the_lifecycle_rules(events: list[Event]) -> None:
    """Whatever happens in whatever order: transport never goes back, closed stays closed, refusals only when closed."""
    status = Status.ACCEPTED
    for event in events:
        if status in CLOSED and event in {Event.ANSWERED, Event.CANCELLED, Event.RETURNED, Event.REMINDED}:
            with pytest.raises(IllegalTransition):
                advance(status, event)
            continue
        after = advance(status, event)
        if status in CLOSED:
            assert after is status
        elif after in TRANSPORT:
            assert TRANSPORT.index(after) >= TRANSPORT.index(status)
        assert is_open(after) or after in CLOSED
        status = after
