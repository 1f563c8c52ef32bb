"""The organisers' tracking over REST: search their messages and follow each one's status and history.

An organiser's case system calls with its own token (role `organiser`) and
sees only the messages its organiser sent or receives; any other message is
404 `message-not-found`, the answer an unknown id gets, and absent from every
search.
"""

from __future__ import annotations

from fastapi import APIRouter

from adapters.access import AccessChecked
from adapters.http import Authenticated, Services, Unit, problem_responses
from adapters.parameters import MessageId
from adapters.tracking import MessagePage, MessageStatus, Search, page_out, status_out
from broker.services.tracking import message_view
from broker.services.tracking_search import search

router = APIRouter(prefix="/organiser/v1", tags=["organiser"], route_class=AccessChecked)


@router.get("/messages", response_model=MessagePage, responses=problem_responses(400, 401, 403, 422))
async def search_messages(query: Search, services: Services, caller: Authenticated, uow: Unit) -> MessagePage:
    """Search the messages the organiser sent or receives by case, other party, type, time and status."""
    page = await search(uow, caller, query.filters, query.page)
    return page_out(page, f"{services.settings.public_base_url}/organiser/v1/messages")


@router.get("/messages/{message_id}", response_model=MessageStatus, responses=problem_responses(401, 403, 404))
async def message_status(message_id: MessageId, caller: Authenticated, uow: Unit) -> MessageStatus:
    """The status and history of a message the organiser sent or receives; any other is 404."""
    return status_out(await message_view(uow, caller, message_id))
