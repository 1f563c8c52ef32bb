"""Kela's inbox over REST: what organisers sent to Kela, pulled with a stable cursor and receipted.

`GET /kela/v1/inbox?after=<cursor>&limit=&wait=` lists unreceipted messages
after the cursor (long-polling up to `wait` seconds when there are none);
`GET /kela/v1/inbox/{id}` returns one message's XML and writes the read to the
usage log (703/2023 10 §); `POST /kela/v1/inbox/{id}/receipt` sends the
business receipt back to the organiser and closes the entry.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field

from adapters.access import AccessChecked
from adapters.http import Authenticated, Services, Unit, XRoad, problem_responses
from adapters.parameters import MessageId
from broker.crypto.tokens import Caller
from broker.domain.errors import ErrorCode, Rejection
from broker.services.kela_inbox import InboxMessage

router = APIRouter(prefix="/kela/v1/inbox", tags=["kela", "inbox"], route_class=AccessChecked)
_POLL_INTERVAL_S = 0.25
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
    *,
    services: Services,
    caller: Authenticated,
    after: Annotated[str, Query(json_schema_extra={"pattern": f"^{_CURSOR.pattern}$"})] = "0",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=60)] = 0,
) -> InboxPage:
    """Unreceipted messages after the cursor, oldest first; waits up to `wait` seconds for one to arrive."""
    cursor = _cursor(after)
    items = await _wait_for_items(request, services, caller, cursor, limit=limit, wait=wait)
    base = f"{services.settings.public_base_url}/kela/v1/inbox"
    return InboxPage(
        items=[
            InboxItemOut(
                message_id=i.message_id,
                message_type=i.message_type,
                cursor=str(i.cursor),
                href=f"{base}/{i.message_id}",
            )
            for i in items
        ],
        next_cursor=str(items[-1].cursor) if items else str(cursor),
    )


async def _wait_for_items(
    request: Request, services: Services, caller: Caller, cursor: int, *, limit: int, wait: float
) -> list[InboxMessage]:
    """A page of the inbox, polling (each poll its own unit of work) until one arrives or `wait` is over."""
    deadline = time.monotonic() + wait
    while True:
        async with services.units() as uow:
            items = await services.inbox.page(uow, caller, cursor, limit)
        if items or time.monotonic() >= deadline or await request.is_disconnected():
            return items
        await asyncio.sleep(min(_POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))


@router.get("/{message_id}", responses=_XML_RESPONSES, response_class=Response)
async def read_message(
    message_id: MessageId, services: Services, caller: Authenticated, uow: Unit, via: XRoad
) -> Response:
    """The message's XML as Kela may receive it; the read (with its X-Road member, official) goes to the usage log."""
    body = await services.inbox.read(uow, caller, message_id, via)
    await uow.commit()
    return Response(body, media_type="application/xml")


@router.post("/{message_id}/receipt", response_model=ReceiptAnswer, responses=problem_responses(401, 404, 422))
async def receipt_message(
    message_id: MessageId,
    services: Services,
    caller: Authenticated,
    uow: Unit,
    receipt: Annotated[ReceiptRequest | None, Body()] = None,
) -> ReceiptAnswer:
    """Take the message into Kela's case system: the organiser gets a business receipt, the entry closes."""
    reference = receipt.case_reference if receipt else None
    receipt_id = await services.inbox.receipt(uow, caller, message_id, reference)
    await uow.commit()
    return ReceiptAnswer(
        receipt_id=receipt_id, status_url=f"{services.settings.public_base_url}/kela/v1/messages/{receipt_id}"
    )
