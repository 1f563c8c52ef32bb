"""The deadlines table of docs/deadlines.md, made from the catalogue so that the two cannot drift.

Write it with `.venv/bin/python -m broker.deadline_report docs/deadlines.md`;
`tests/unit/test_deadline_report.py` fails while the file differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from broker.domain.catalogue import CATALOGUE, RECEIPT, MessageType
from broker.domain.deadlines import Deadline

_INTRO = """# Deadlines per message type

Generated from `broker/domain/catalogue.py` by
`python -m broker.deadline_report docs/deadlines.md`; do not edit by hand
(`tests/unit/test_deadline_report.py` fails while it differs).

The overdue watch (`broker/services/overdue.py`, one instance at a time)
sweeps every `SILTA_OVERDUE_CHECK_INTERVAL_S` seconds. A response time in
working days runs from the message's delivery (its publication), in Finnish
dates: a working day is Monday to Friday except Finnish public holidays,
Midsummer Eve and Christmas Eve (`broker/domain/working_days.py`). When a
deadline is as near as the reminder lead time (in working days), the message
gets a `reminder-due` step and **the party that must answer** a notice; once
it has passed (the day after a due date, or as soon as the receipt timeout has
run out), an `overdue` step and **the party that waits** (the
sender: Kela in its inbox, an organiser on its topic) a notice. Both notices
are Silta's technical receipts (schema 1.1) with `Outcome` `reminder-due` or
`overdue` and the `DueDate`, and carry no personal data; each is sent once
(its id is derived from the message and the count of earlier steps of its
kind). A requester's reminder with a new due date starts the watch again. A
request that Kela addressed to the client (mirrored to the organiser) gets the
steps but no notices: the organiser owes no answer.

"""

_HEADER = (
    "| message type | direction | awaits | answered by | response time | reminder | basis |\n"
    "|---|---|---|---|---|---|---|\n"
)


def deadlines_markdown() -> str:
    """docs/deadlines.md: the rules above and one row per message type of the catalogue."""
    rows = "".join(_row(message_type) for message_type in CATALOGUE.values())
    return _INTRO + _HEADER + rows


def _row(message_type: MessageType) -> str:
    deadline = message_type.deadline
    if deadline is None:
        cells = _fallback(message_type)
    else:
        cells = (
            str(deadline.awaits),
            ", ".join(sorted(deadline.answered_by)),
            _response_time(deadline),
            _reminder(deadline.reminder_lead_days),
            deadline.basis,
        )
    return f"| {message_type.name} | {message_type.direction} | " + " | ".join(cells) + " |\n"


def _fallback(message_type: MessageType) -> tuple[str, str, str, str, str]:
    if message_type is RECEIPT:
        return ("nothing", "—", "—", "—", "a receipt is itself the answer")
    return (
        "business-receipt",
        "receipt",
        "the receipt timeout (`SILTA_RECEIPT_TIMEOUT_HOURS`, 24 h by default) after delivery",
        "—",
        "agreed: the default for types without a deadline of their own",
    )


def _reminder(lead_days: int) -> str:
    if lead_days == 0:
        return "—"
    return f"{lead_days} working day{'' if lead_days == 1 else 's'} before"


def _response_time(deadline: Deadline) -> str:
    if deadline.from_due_date:
        return f"the request's DueDate; {deadline.working_days} working days if it has none"
    if deadline.working_days is not None:
        return f"{deadline.working_days} working days after delivery"
    return "the receipt timeout (`SILTA_RECEIPT_TIMEOUT_HOURS`) after acceptance"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(deadlines_markdown())
