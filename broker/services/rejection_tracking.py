"""A party's own REST rejections: "why was my message refused yesterday".

The same kept rows the operators list (`broker.store.parked`), narrowed to
the caller's party; Silta's operators, asking on Kela's route, see Kela's.
A kept rejection holds no body, no URL and no detail text, so nothing here
can show an identity code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broker.crypto.tokens import Caller
from broker.domain.clients import Role
from broker.domain.dead_letters import DeadLetterFilter
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.parties import KELA
from broker.services.dead_letters import RestRejectionView, rest_rejection_view
from broker.services.unit_of_work import UnitOfWork
from broker.store.parked import find_rest_rejections


@dataclass(frozen=True)
class RejectionQuery:
    """Which of the caller's rejections: by code and time, a page after the id `after`."""

    code: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: int = 0
    limit: int = 50

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise Rejection(
                ErrorCode.TIME_RANGE_INVALID,
                "`until` must be later than `since`",
                [ErrorItem("/query/until", "not after since")],
            )


def party_seen_by(caller: Caller) -> str:
    """Whose rejections a caller of Kela's route sees: its own party's, Kela's for an operator."""
    return KELA if caller.role is Role.OPERATOR else caller.party


async def own_rejections(uow: UnitOfWork, caller: Caller, query: RejectionQuery) -> list[RestRejectionView]:
    """One page of the rejections kept for the caller's party, oldest first."""
    wanted = DeadLetterFilter(
        reason=query.code,
        sender=party_seen_by(caller),
        since=query.since,
        until=query.until,
        after=query.after,
        limit=query.limit,
    )
    return [rest_rejection_view(row) for row in await find_rest_rejections(uow.session, wanted)]
