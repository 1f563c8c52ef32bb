"""What the workload sent and what its applications saw, kept apart from anything the service reports.

The Kela side and the organisers' case systems write here as they go; the
checker reads it at the end, next to what it finds on the topics and in
Kela's inbox itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expected:
    """A message some party handed over (202 from the REST API, or acknowledged by Kafka)."""

    message_id: str
    message_type: str
    sender: str
    recipient: str
    case_id: str
    step: int
    """Its place among the messages one sender sent, one after the other, about this case."""


@dataclass
class Ledger:
    """The workload's own account of the run."""

    planned: dict[str, Expected] = field(default_factory=dict)
    """Every message the workload handed over or tried to, by id."""
    accepted: dict[str, Expected] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    """Message id → the error code of a definite refusal (a 4xx problem, a rejected receipt)."""
    seen: Counter[str] = field(default_factory=Counter)
    """Message id → how often an application took it in (after its deduplication: 1, or a duplicated effect)."""
    absorbed: list[str] = field(default_factory=list)
    """`recipient message-id` of each transport duplicate the applications' deduplication absorbed."""
    first_seen_order: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    """(recipient, case id) → message ids in the order the recipient's application first saw them."""
    technical_receipts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """An organiser's message id → the ids of the technical receipts its case system got for it."""
    receipt_outcomes: dict[str, str] = field(default_factory=dict)
    """An organiser's message id → the outcome of its technical receipt."""
    seen_at: dict[str, str] = field(default_factory=dict)
    """Message id → where its application first took it in (topic/partition/offset, or inbox cursor)."""
    kela_saw_in_inbox: dict[str, int] = field(default_factory=dict)
    """Message id → the inbox cursor Kela's reader saw it at."""

    invalid: int = 0
    """Records an application could not read (a bad seal, an invalid document)."""

    def record_sent(self, expected: Expected) -> None:
        """A message the workload is about to hand over."""
        self.planned[expected.message_id] = expected

    def record_accepted(self, message_id: str) -> None:
        """A message its sender got an acceptance for."""
        self.accepted[message_id] = self.planned[message_id]

    def record_seen(self, recipient: str, case_id: str, message_id: str, where: str = "") -> bool:
        """An application took a message in (at `where`, a record's position); False if it had it already."""
        if self.seen[message_id]:
            self.record_absorbed(recipient, message_id, where)
            return False
        self.record_effect(recipient, case_id, message_id, where)
        return True

    def record_effect(self, recipient: str, case_id: str, message_id: str, where: str = "") -> None:
        """An application's deduplication let a message through to its effect: a second time is a duplicate."""
        if not self.seen[message_id]:
            self.seen_at[message_id] = where
            self.first_seen_order[recipient, case_id].append(message_id)
        self.seen[message_id] += 1

    def record_absorbed(self, recipient: str, message_id: str, where: str = "") -> None:
        """An application's deduplication held back a message it had processed (a transport duplicate)."""
        again = "the same record again" if self.seen_at.get(message_id) == where else f"another copy at {where}"
        self.absorbed.append(f"{recipient} {message_id} ({again})")
