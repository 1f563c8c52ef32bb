"""Deadlines: remind before one passes, flag and tell when it has passed (see `broker.domain.deadlines`).

Each message type's deadline comes from the catalogue; a type without one has
a business receipt within the receipt timeout as its deadline. When a
deadline is near (its type's reminder lead time, in working days) the message
gets a `reminder-due` step and the party that must answer a technical notice
(a receipt whose outcome is `reminder-due`, with the due date). When it has
passed, the message gets an `overdue` step and the party that waits for the
answer (the sender: Kela in its inbox, an organiser on its topic) a notice
whose outcome is `overdue`. Each at most once: the sweep runs as a singleton,
skips what the history already shows, and each notice's id is derived from
the message and the count of earlier steps of its kind, so the same notice
cannot be stored twice. A requester's reminder with a new due date moves the
deadline: the request is watched, reminded and flagged again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from lxml import etree

from broker.domain.accepted import AcceptedMessage
from broker.domain.catalogue import CATALOGUE, INFORMATION_REQUEST
from broker.domain.clock import finnish_date
from broker.domain.lifecycle import Event
from broker.domain.parties import PartyRole, role_of
from broker.services.receipts import DeadlineNotice, ReceiptWriter
from broker.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from broker.store.deadlines import Due, near_deadline, past_deadline
from broker.store.messages import insert_accepted
from broker.store.singleton import SingletonJob, hold_round_lock
from broker.store.tracking import StatusStep, record_steps

log = structlog.get_logger(__name__)
_NOTIFIED = frozenset({PartyRole.KELA, PartyRole.ORGANISER})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True)
class Swept:
    """What one sweep did: the messages it reminded of and those it flagged overdue."""

    reminded: list[str]
    overdue: list[str]


class OverdueSweep:
    """The use case "remind of near deadlines and flag passed ones, now"."""

    def __init__(self, receipts: ReceiptWriter, receipt_timeout: dt.timedelta) -> None:
        self._receipts = receipts
        self._receipt_timeout = receipt_timeout

    async def run(self, uow: UnitOfWork) -> list[str]:
        """Sweep in the unit of work; returns the ids newly flagged overdue."""
        return (await self.sweep(uow)).overdue

    async def sweep(self, uow: UnitOfWork) -> Swept:
        """Flag what has passed its deadline, then remind of what is near it; their notices go to the outbox."""
        now = uow.now
        overdue = await past_deadline(uow.session, now, self._receipt_timeout)
        await self._step(uow, overdue, Event.OVERDUE)
        near = await near_deadline(uow.session, now)
        await self._step(uow, near, Event.REMINDER_DUE)
        return Swept([d.message_id for d in near], [d.message_id for d in overdue])

    async def _step(self, uow: UnitOfWork, found: Sequence[Due], event: Event) -> None:
        """The step in each message's history and the notice to the party concerned."""
        await record_steps(uow.session, [StatusStep(d.message_id, event, uow.now) for d in found])
        notices = [self._notice(d, event, uow.now) for d in found]
        await insert_accepted(uow.session, [n for n in notices if n is not None])
        if found:
            uow.outbox_written()

    def _notice(self, due: Due, event: Event, now: dt.datetime) -> AcceptedMessage | None:
        """Overdue: to the party that waits (the sender); reminder: to the party that must answer (the recipient)."""
        party = due.sender if event is Event.OVERDUE else due.recipient
        if role_of(party) not in _NOTIFIED or _addressed_to_the_client(due):
            return None
        notice = DeadlineNotice(event, due.message_id, party, due.case_id, _due_date(due), due.earlier + 1)
        return self._receipts.deadline_notice(notice, now)


def _due_date(due: Due) -> dt.date | None:
    """The last day to answer, as the notice tells it (None where the receipt timeout in hours applies)."""
    deadline = CATALOGUE[due.message_type].deadline
    if deadline is None or (due.published_at is None and not deadline.from_due_date):
        return None
    if due.published_at is None:
        return due.due_date
    return deadline.due_on(finnish_date(due.published_at), due.due_date)


def _addressed_to_the_client(due: Due) -> bool:
    """Kela's request to the client, mirrored to the organiser (18 h §): the organiser owes no answer."""
    if due.message_type != INFORMATION_REQUEST.name or due.body is None:
        return False
    root = etree.fromstring(due.body, _PARSER)
    return root.findtext(f"{{{INFORMATION_REQUEST.namespace}}}AddressedTo") == "client"


class OverdueWatch:
    """Runs the sweep every `interval_s` seconds in the background, each run in its own unit of work.

    Every instance runs a watch; a round sweeps only in the instance that holds
    the overdue watch's advisory lock (see `broker.store.singleton`), so two
    instances never flag the same message twice.
    """

    def __init__(self, units: UnitOfWorkFactory, sweep: OverdueSweep, interval_s: float) -> None:
        self._units = units
        self._sweep = sweep
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching."""
        self._task = asyncio.create_task(self._run(), name="overdue-watch")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def check_once(self) -> list[str]:
        """Remind and flag what is due now (unless another instance's round is under way); returns the ids flagged."""
        async with self._units() as uow:
            if not await hold_round_lock(uow.session, SingletonJob.OVERDUE_WATCH):
                return []
            swept = await self._sweep.sweep(uow)
            await uow.commit()
        if swept.overdue or swept.reminded:
            log.info("deadlines_swept", overdue=len(swept.overdue), reminded=len(swept.reminded))
        return swept.overdue

    async def _run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception:  # keep watching; the error is logged with its traceback
                log.exception("overdue_check_failed")
            await asyncio.sleep(self._interval_s)
