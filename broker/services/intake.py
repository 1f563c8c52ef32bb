"""Accept a party's message over REST (Kela's transfers, notices, requests, answers and receipts).

The pipeline checks and filters the document; the store checks say whether it
is a duplicate, a conflict, or an answer to something still open; the group
committer — the edge's unit of work for this hot path, shared by the
requests that arrive while the previous commit runs — stores it with its
outbox row. The answer is the same however often the same message is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from broker.crypto.tokens import Caller
from broker.domain.accepted import SaveOutcome
from broker.domain.errors import ErrorCode, Rejection
from broker.metrics import MESSAGES_ACCEPTED
from broker.pipeline import MessagePipeline
from broker.services.checks import admit, check_against_store, needs_store_checks
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.store.group_commit import GroupCommitter


@dataclass(frozen=True)
class AcceptedAnswer:
    """What the sender hears: its message id, and whether this call stored it or it was stored before."""

    message_id: str
    outcome: SaveOutcome


class MessageIntake:
    """The use case "a party sends a message": check, filter, store with the outbox row, answer."""

    def __init__(self, pipeline: MessagePipeline, units: UnitOfWorkFactory, committer: GroupCommitter) -> None:
        self._pipeline = pipeline
        self._units = units
        self._committer = committer

    async def accept(
        self, body: bytes, caller: Caller, request_id: str | None = None, calling_member: str | None = None
    ) -> AcceptedAnswer:
        """Accept one XML document from `caller`; a `Rejection` names what is wrong.

        `request_id` and `calling_member` (the `X-Road-Client`) are kept with the message for tracking; a
        repeat of a stored message keeps the first call's.
        """
        message = replace(self._pipeline.accept(body, caller), request_id=request_id, calling_member=calling_member)
        if needs_store_checks(message):  # else the committer alone tells a duplicate or a conflict apart
            async with self._units() as uow:
                outcome, message = await admit(uow.session, message)
            if outcome is SaveOutcome.DUPLICATE:
                return AcceptedAnswer(message.message_id, outcome)
        try:
            outcome = await self._committer.save(message)
        except IntegrityError:
            # Another answer to the same request was committed since the check: checking again names it.
            async with self._units() as uow:
                await check_against_store(uow.session, message)
            raise
        if outcome is SaveOutcome.CONFLICT:
            detail = f"message id {message.message_id} was already used for a different document"
            raise Rejection(ErrorCode.MESSAGE_ID_CONFLICT, detail)
        if outcome is SaveOutcome.STORED:
            MESSAGES_ACCEPTED.labels(message_type=message.message_type, channel="rest").inc()
        return AcceptedAnswer(message.message_id, outcome)
