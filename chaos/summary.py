"""The checker's verdict: the ledger, the topics and the inbox set side by side, printed as one block."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from chaos.checker import TopicScan
from chaos.ledger import Expected, Ledger


@dataclass
class Findings:
    """What the checker gathered from outside the service."""

    topics: TopicScan
    inbox: dict[str, int]
    outbox_left: int
    audit_ok: bool
    audit_lines: list[str]
    faults: Counter[str]
    faults_skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass
class Summary:
    """Every figure of the summary block, with the message ids behind the bad ones."""

    sent: int
    accepted: int
    delivered: int
    lost: list[str]
    duplicated: list[str]
    absorbed: list[str]
    transport_copies: int
    out_of_order: list[str]
    receipts_missing: list[str]
    receipts_rejected: list[str]
    refused: dict[str, str]
    invalid: int
    inbox_skipped: list[str]
    findings: Findings

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing doubled, nothing out of order, and the audit chain verifies."""
        return not self.lost and not self.duplicated and not self.out_of_order and self.findings.audit_ok

    def lines(self) -> list[str]:
        """The summary block."""
        f = self.findings
        per_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(f.faults.items()))
        skipped = ", ".join(f"{kind} {count}" for kind, count in sorted(f.faults_skipped.items()))
        lines = [
            "=== chaos run summary ===",
            f"sent {self.sent}",
            f"accepted {self.accepted}",
            f"refused {len(self.refused)}",
            f"delivered {self.delivered}",
            f"lost {len(self.lost)}",
            f"duplicated {len(self.duplicated)}",
            f"transport duplicates absorbed {len(self.absorbed)}",
            f"records on the to-topics {sum(f.topics.copies.values())}",
            f"transport copies on the topics {self.transport_copies}",
            f"out of order {len(self.out_of_order)}",
            f"receipts missing {len(self.receipts_missing)}",
            f"receipts rejected {len(self.receipts_rejected)}",
            f"invalid records {self.invalid}",
            f"inbox skipped by the cursor {len(self.inbox_skipped)}",
            f"outbox left {f.outbox_left}",
            f"faults injected {sum(f.faults.values())} ({per_kind})",
        ]
        if skipped:
            lines.append(f"faults skipped {sum(f.faults_skipped.values())} ({skipped})")
        lines.append(f"audit chain {'verifies' if f.audit_ok else 'FAILED'}: {' | '.join(f.audit_lines)}")
        lines.append(f"seconds {f.seconds:.0f}")
        lines += self._details()
        lines.append(f"verdict {'PASS' if self.ok else 'FAIL'}")
        return lines

    def _details(self) -> list[str]:
        named = {
            "lost": self.lost,
            "duplicated": self.duplicated,
            "out of order (cases)": self.out_of_order,
            "receipts missing": self.receipts_missing,
            "receipts rejected": self.receipts_rejected,
            "refused": [f"{m} {code}" for m, code in self.refused.items()],
            "transport duplicates absorbed": self.absorbed,
        }
        return [f"  {what}: {', '.join(ids[:8])}{' …' if len(ids) > 8 else ''}" for what, ids in named.items() if ids]


def _deliverable(expected: Expected) -> bool:
    return expected.recipient not in {"silta", "?"}


def judge(ledger: Ledger, findings: Findings) -> Summary:
    """The verdict on a run from the ledger and the checker's findings."""
    deliverable = [e for e in ledger.accepted.values() if _deliverable(e)]
    delivered = [e for e in deliverable if ledger.seen[e.message_id]]
    skipped = [m for m in findings.inbox if m not in ledger.kela_saw_in_inbox and m in ledger.accepted]
    from_organisers = [e for e in ledger.accepted.values() if e.sender.startswith("hva-")]
    return Summary(
        sent=len(ledger.planned),
        accepted=len(ledger.accepted),
        delivered=len(delivered),
        lost=sorted({e.message_id for e in deliverable if not ledger.seen[e.message_id]} | set(skipped)),
        duplicated=_duplicated(ledger, findings.topics),
        absorbed=ledger.absorbed,
        transport_copies=sum(count - 1 for count in findings.topics.copies.values()),
        out_of_order=_out_of_order(ledger, findings.topics),
        receipts_missing=[e.message_id for e in from_organisers if not ledger.technical_receipts.get(e.message_id)],
        receipts_rejected=[m for m, outcome in ledger.receipt_outcomes.items() if outcome != "accepted"],
        refused=dict(ledger.rejected),
        invalid=ledger.invalid,
        inbox_skipped=skipped,
        findings=findings,
    )


def _duplicated(ledger: Ledger, topics: TopicScan) -> list[str]:
    """Effects seen twice: a message taken in twice, or one message answered by two different receipts."""
    twice = {m for m, count in ledger.seen.items() if count > 1}
    twice |= {m for m, receipts in ledger.technical_receipts.items() if len(set(receipts)) > 1}
    business = {m for m, e in ledger.planned.items() if e.message_type == "receipt" and e.sender == "kela"}
    twice |= {m for m, receipts in topics.receipts.items() if len(receipts - business) > 1 and m in ledger.accepted}
    return sorted(twice)


def _out_of_order(ledger: Ledger, topics: TopicScan) -> list[str]:
    """Cases whose sequential messages reached their recipient (app or topic) in another order than sent."""
    cases: set[str] = set()
    for orders in (ledger.first_seen_order.values(), topics.order.values()):
        for ids in orders:
            steps = [ledger.accepted[m].step for m in ids if m in ledger.accepted and ledger.accepted[m].step > 0]
            if steps != sorted(steps):
                cases.add(ledger.accepted[ids[0]].case_id if ids[0] in ledger.accepted else ids[0])
    return sorted(cases)
