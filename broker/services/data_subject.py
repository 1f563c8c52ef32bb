"""The data subject's question (703/2023 11 §): who used or received my data, when, why, on what basis.

The answer comes from the disclosure and usage logs by the identity code's
keyed pseudonyms, one under each live key version, so entries written before
a rotation are found too; the question itself is written to the usage log,
under the current version.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.audit.chain import ChainEntry
from broker.audit.pseudonym import Pseudonymiser
from broker.domain.disclosure import UsageEntry
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.identity_code import identity_code_problem
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import append_entries, entries_about

_PURPOSE = "answer the data subject's request (703/2023 11 §)"


@dataclass(frozen=True)
class SubjectAnswer:
    """Every logged disclosure and usage of one person's data."""

    disclosures: tuple[ChainEntry, ...]
    usages: tuple[ChainEntry, ...]


class DataSubjectQuery:
    """The use case "who received or used this person's data"."""

    def __init__(self, pseudonyms: Pseudonymiser) -> None:
        self._pseudonyms = pseudonyms

    async def answer(self, uow: UnitOfWork, identity_code: str, asked_by: str, party: str) -> SubjectAnswer:
        """The person's disclosures and usages; the question is logged as a usage by `asked_by`."""
        problem = identity_code_problem(identity_code)
        if problem is not None:
            raise Rejection(
                ErrorCode.IDENTITY_CODE_INVALID,
                "the personal identity code is not valid",
                [ErrorItem("/personal_identity_code", problem.reason)],
            )
        every_version = self._pseudonyms.every(identity_code)
        found = await entries_about(uow.session, [pseudonym.value for pseudonym in every_version])
        usage = UsageEntry(every_version[0], asked_by, party, _PURPOSE, ("disclosure log", "usage log"))
        await append_entries(uow.session, "usage", [usage.log_entry()], uow.now)
        return SubjectAnswer(
            disclosures=tuple(e for e in found if e.chain == "disclosure"),
            usages=tuple(e for e in found if e.chain == "usage"),
        )
