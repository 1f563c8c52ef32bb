"""What a guardian sees of a principal: applications, decisions and open requests, through the guardian policy.

Only messages about the principal (by the keyed pseudonyms of the identity
code, one per live key version) that travelled through Silta and still have their body; each passes
the statutory filter's guardian role before it is shown, and the envelope
is never shown (the view carries its own metadata).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.catalogue import CATALOGUE
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.lifecycle import Status
from broker.domain.parties import SILTA
from broker.pipeline import MessagePipeline
from broker.store.tables import MessageRecord

DECISION_TYPES = ("basic-decision-notice", "reduction-notice", "decision-notice")
_TRANSFER_STATUS = {
    Status.ACCEPTED: "at-kela",
    Status.PUBLISHED: "transferred",
    Status.DELIVERED: "transferred",
    Status.RECEIVED: "at-organiser",
    Status.ANSWERED: "at-organiser",
    Status.RETURNED: "returned-to-kela",
}


@dataclass
class PrincipalView:
    """The view's JSON parts and the data categories it showed (for the usage log)."""

    applications: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    open_requests: list[dict[str, Any]] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)


async def principal_view(
    session: AsyncSession, pipeline: MessagePipeline, subjects: Sequence[str], today: dt.date
) -> PrincipalView:
    """Everything the guardian may see about the principal whose pseudonyms (one per key version) are `subjects`."""
    rows = await session.execute(
        select(MessageRecord)
        .where(MessageRecord.subject.in_(subjects), MessageRecord.purged_at.is_(None))
        .order_by(MessageRecord.accepted_at)
    )
    messages = list(rows.scalars())
    view = PrincipalView()
    answers = await _answers(session, [m.message_id for m in messages if m.message_type == "information-request"])
    decided_by = {m.sender for m in messages if m.message_type == "decision-notice"}
    for message in messages:
        if message.message_type == "application-transfer":
            progress = _TRANSFER_STATUS.get(Status(message.status), "transferred")
            status = "decided" if message.recipient in decided_by else progress
            view.applications.append(_shown(pipeline, message, view) | {"status": status})
        elif message.message_type in DECISION_TYPES:
            view.decisions.append(_shown(pipeline, message, view))
        elif message.message_type == "information-request":
            request = _open_request(pipeline, message, answers.get(message.message_id, []), today, view)
            if request is not None:
                view.open_requests.append(request)
    return view


async def find_open_request(
    session: AsyncSession, pipeline: MessagePipeline, subjects: Sequence[str], request_id: str, today: dt.date
) -> MessageRecord | None:
    """The request if it is one of the principal's open requests the guardian may answer; else None."""
    message = await session.get(MessageRecord, request_id)
    if message is None or message.subject not in subjects or message.purged_at is not None:
        return None
    if message.message_type != "information-request":
        return None
    answers = (await _answers(session, [request_id])).get(request_id, [])
    return message if _open_request(pipeline, message, answers, today, PrincipalView()) is not None else None


def _open_request(
    pipeline: MessagePipeline,
    message: MessageRecord,
    answers: Sequence[MessageRecord],
    today: dt.date,
    view: PrincipalView,
) -> dict[str, Any] | None:
    """A request addressed to the client (the guardian acts for the client) that is neither answered nor cancelled."""
    if any(CATALOGUE[a.message_type].closes_request for a in answers):
        return None
    shown = _shown(pipeline, message, view)
    if shown["content"].get("AddressedTo") != "client":
        return None
    uploads = [
        {"message_id": a.message_id, "recipient": a.recipient, "status": a.status}
        for a in answers
        if a.message_type == "late-attachment" and a.sender == SILTA
    ]
    due = message.due_date
    return shown | {
        "due_date": due.isoformat() if due else None,
        "overdue": due is not None and due < today,
        "uploads": uploads,
    }


async def _answers(session: AsyncSession, request_ids: list[str]) -> dict[str, list[MessageRecord]]:
    if not request_ids:
        return {}
    rows = await session.execute(select(MessageRecord).where(MessageRecord.correlation_id.in_(request_ids)))
    found: dict[str, list[MessageRecord]] = {}
    for answer in rows.scalars():
        found.setdefault(answer.correlation_id or "", []).append(answer)
    return found


def _shown(pipeline: MessagePipeline, message: MessageRecord, view: PrincipalView) -> dict[str, Any]:
    """One message as the guardian may see it: metadata and the guardian-filtered content as JSON."""
    document, categories = pipeline.guardian_view(message.body, message.message_type)
    view.categories.update(categories)
    return {
        "message_id": message.message_id,
        "message_type": message.message_type,
        "from": message.sender,
        "to": message.recipient,
        "sent_at": message.accepted_at.isoformat(),
        "content": as_json(document),
    }


def as_json(element: etree._Element) -> dict[str, Any]:
    """An element's children as JSON: local names as keys, repeated names as lists, attributes as `@name`.

    The envelope is left out: the view's own metadata says what the guardian needs of it.
    """
    out: dict[str, Any] = {f"@{etree.QName(name).localname}": value for name, value in element.attrib.items()}
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).namespace == ENVELOPE_NAMESPACE:
            continue
        name = etree.QName(child).localname
        value: Any = as_json(child) if len(child) or child.attrib else (child.text or "").strip()
        if isinstance(value, dict) and child.attrib and not len(child):
            value["value"] = (child.text or "").strip()
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out
