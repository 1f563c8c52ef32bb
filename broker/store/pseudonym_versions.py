"""What still needs a version of the pseudonym key, and forgetting a retired version. Callers own the transaction.

Log entries and messages name their version in their JSON (`pseudonym_version`;
absent means version 1, written before there were versions); mandates have a
row per version in `guardian_mandate_subjects`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.domain.disclosure import PSEUDONYM_VERSION
from broker.store.tables import AuditEntry, MandateSubject, MessageRecord


@dataclass(frozen=True)
class VersionUse:
    """What would become unreachable if a version of the pseudonym key were retired."""

    log_entries: int
    """Log entries whose subject is a pseudonym of this version: the data subject's query would miss them."""
    messages: int
    """Unpurged messages about a person under this version (a guardian's view), or not yet logged (the relay's)."""
    mandates: int
    """Mandates that have the principal under this version and no other live one: they would find nothing new."""

    @property
    def unused(self) -> bool:
        """Whether nothing needs the version."""
        return self.log_entries == self.messages == self.mandates == 0


def _version_of(column: ColumnElement[int]) -> ColumnElement[int]:
    """The version an entry or message names, or 1 for one from before versions."""
    return func.coalesce(column, 1)


async def version_use(session: AsyncSession, version: int, live: Collection[int]) -> VersionUse:
    """Count what needs `version`; `live` are the live versions (a mandate under another of them is fine)."""
    entries = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.subject.is_not(None),
            _version_of(AuditEntry.payload[PSEUDONYM_VERSION].as_integer()) == version,
        )
    )
    messages = await session.scalar(
        select(func.count())
        .select_from(MessageRecord)
        .where(
            MessageRecord.purged_at.is_(None),
            MessageRecord.subject.is_not(None) | MessageRecord.published_at.is_(None),
            _version_of(MessageRecord.disclosure[PSEUDONYM_VERSION].as_integer()) == version,
        )
    )
    elsewhere = select(MandateSubject.principal_ref).where(
        MandateSubject.key_version != version, MandateSubject.key_version.in_(list(live))
    )
    mandates = await session.scalar(
        select(func.count())
        .select_from(MandateSubject)
        .where(MandateSubject.key_version == version, MandateSubject.principal_ref.not_in(elsewhere))
    )
    return VersionUse(int(entries or 0), int(messages or 0), int(mandates or 0))


async def forget_version(session: AsyncSession, version: int) -> int:
    """Delete the mandates' pseudonyms under a retired version; how many rows went."""
    result = await session.execute(delete(MandateSubject).where(MandateSubject.key_version == version))
    return int(getattr(result, "rowcount", 0) or 0)
