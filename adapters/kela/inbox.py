"""Kela's inbox over REST: what organisers sent to Kela, pulled with a stable cursor and receipted.

`GET /kela/v1/inbox?after=<cursor>&limit=&wait=` lists unreceipted messages
after the cursor (long-polling up to `wait` seconds when there are none);
`GET /kela/v1/inbox/{id}` returns one message's XML and writes the read to the
usage log (703/2023 10 §); `POST /kela/v1/inbox/{id}/receipt` sends the
business receipt back to the organiser and closes the entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.http import problem_responses, services_of
from adapters.parameters import MessageId
from broker.crypto.tokens import Caller
from broker.domain.errors import ErrorCode, Rejection
from broker.services.checks import check_against_store
from broker.services.receipts import business_receipt, business_receipt_id
from broker.store import inbox
from broker.store.audit_log import append_entries
from broker.store.messages import get_message, insert_accepted
from broker.store.tables import InboxEntry, MessageRecord

router = APIRouter(prefix="/kela/v1/inbox", tags=["kela", "inbox"])
_POLL_INTERVAL_S = 0.25
_READ_PURPOSE = "handle the client's case at Kela"
_MAX_CURSOR_DIGITS = 18
# ASCII digits only: `str.isdigit` and `int` also take "³", "٣" or "１".
_CURSOR = re.compile(f"[0-9]{{1,{_MAX_CURSOR_DIGITS}}}", re.ASCII)
_XML_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/xml": {"schema": {"type": "string"}}},
        "description": "The message as Kela may receive it",
    },
    **problem_responses(401, 404),
}


class InboxItemOut(BaseModel):
    """One unreceipted message in the inbox."""

    message_id: str
    message_type: str
    cursor: str
    href: str


class InboxPage(BaseModel):
    """A page of the inbox and the cursor to continue from."""

    items: list[InboxItemOut]
    next_cursor: str


class ReceiptRequest(BaseModel):
    """Kela's business receipt: the message was taken into the case system with this reference."""

    case_reference: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}$")


class ReceiptAnswer(BaseModel):
    """The business receipt Silta sends to the organiser."""

    receipt_id: str
    status_url: str


def _cursor(after: str) -> int:
    if _CURSOR.fullmatch(after) is None:
        raise Rejection(ErrorCode.CURSOR_INVALID, f"the cursor {after[:40]!r} is not one Silta gave out")
    return int(after)


@router.get("", response_model=InboxPage, responses=problem_responses(400, 401, 422))
async def list_inbox(
    request: Request,
    after: Annotated[str, Query(json_schema_extra={"pattern": f"^{_CURSOR.pattern}$"})] = "0",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=60)] = 0,
) -> InboxPage:
    """Unreceipted messages after the cursor, oldest first; waits up to `wait` seconds for one to arrive."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    cursor = _cursor(after)
    deadline = time.monotonic() + wait
    while True:
        async with services.sessions() as session:
            items = await inbox.open_items(session, caller.party, cursor, limit)
        if items or time.monotonic() >= deadline or await request.is_disconnected():
            break
        await asyncio.sleep(min(_POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))
    base = f"{services.settings.public_base_url}/kela/v1/inbox"
    return InboxPage(
        items=[
            InboxItemOut(
                message_id=i.message_id, message_type=i.message_type, cursor=str(i.seq), href=f"{base}/{i.message_id}"
            )
            for i in items
        ],
        next_cursor=str(items[-1].seq) if items else str(cursor),
    )


@router.get(
    "/{message_id}",
    responses=_XML_RESPONSES,
    response_class=Response,
)
async def read_message(message_id: MessageId, request: Request) -> Response:
    """The message's XML as Kela may receive it; the read is written to the usage log."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    async with services.sessions() as session, session.begin():
        _, message = await _inbox_message(session, caller, message_id)
        await append_entries(session, "usage", [_usage(caller, message)], dt.datetime.now(dt.UTC))
    return Response(message.body, media_type="application/xml")


@router.post("/{message_id}/receipt", response_model=ReceiptAnswer, responses=problem_responses(401, 404, 422))
async def receipt_message(
    message_id: MessageId, request: Request, receipt: Annotated[ReceiptRequest | None, Body()] = None
) -> ReceiptAnswer:
    """Take the message into Kela's case system: the organiser gets a business receipt, the entry closes."""
    services = services_of(request)
    caller = services.verifier.verify(request.headers.get("authorization"))
    receipt_id = business_receipt_id(message_id)
    async with services.sessions() as session, session.begin():
        # the entry's row lock makes a second, concurrent receipt wait and then find it receipted
        entry, message = await _inbox_message(session, caller, message_id, lock=True)
        if entry.receipted_at is None:
            reference = receipt.case_reference if receipt else None
            document = business_receipt(receipt_id, message_id, message.sender, message.case_id, reference)
            accepted = await check_against_store(session, services.pipeline.accept(document, caller))
            await insert_accepted(session, [accepted])
            await inbox.mark_receipted(session, entry.seq, receipt_id, dt.datetime.now(dt.UTC))
    services.relay.wake()
    return ReceiptAnswer(
        receipt_id=receipt_id, status_url=f"{services.settings.public_base_url}/kela/v1/messages/{receipt_id}"
    )


async def _inbox_message(
    session: AsyncSession, caller: Caller, message_id: str, *, lock: bool = False
) -> tuple[InboxEntry, MessageRecord]:
    """The caller's inbox entry of a message and the message, or `message-not-found`."""
    entry = await inbox.entry(session, caller.party, message_id, lock=lock)
    message = None if entry is None else await get_message(session, message_id)
    if entry is None or message is None or message.purged_at is not None:
        raise Rejection(ErrorCode.MESSAGE_NOT_FOUND, f"no message {message_id} in your inbox")
    return entry, message


def _usage(caller: Caller, message: MessageRecord) -> tuple[str | None, dict[str, Any]]:
    facts = message.disclosure or {}
    return facts.get("data_subject"), {
        "user": caller.client_id,
        "party": caller.party,
        "purpose": _READ_PURPOSE,
        "data": facts.get("categories", []),
        "message_id": message.message_id,
        "message_type": message.message_type,
    }
