"""The mandate registry and spent guardian assertions. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from broker.audit.pseudonym import Pseudonymiser
from broker.crypto.assertions import GuardianAssertion
from broker.domain.disclosure import Pseudonym
from broker.domain.mandates import MandateRow, covers_financial_matters
from broker.store.tables import GuardianMandate, MandateSubject, SpentAssertion


async def upsert_mandates(
    session: AsyncSession, rows: Sequence[MandateRow], pseudonyms: Pseudonymiser, now: dt.datetime
) -> tuple[int, int]:
    """Store the rows: a known (guardian, principal, valid from) is updated, others created. (created, updated).

    The principal is known under any live key version; the mandate gets its pseudonym under each that it lacks.
    """
    created = updated = 0
    for row in rows:
        every_version = pseudonyms.every(row.principal_identity_code)
        mandate = await _known_mandate(session, row, [p.value for p in every_version])
        if mandate is None:
            mandate = GuardianMandate(
                principal_ref=str(uuid.uuid4()),
                guardian_id=row.guardian_id,
                principal_subject=every_version[0].value,
                valid_from=row.valid_from,
            )
            session.add(mandate)
            created += 1
        else:
            updated += 1
        mandate.scope, mandate.valid_to = row.scope, row.valid_to
        mandate.source_reference, mandate.updated_at = row.source_reference, now
        await session.flush()
        await _add_missing_versions(session, mandate.principal_ref, every_version)
    await session.flush()
    return created, updated


async def _known_mandate(session: AsyncSession, row: MandateRow, subjects: list[str]) -> GuardianMandate | None:
    """The stored mandate for the row's guardian, start and principal (by any of the principal's pseudonyms)."""
    under_any_version = select(MandateSubject.principal_ref).where(MandateSubject.subject.in_(subjects))
    found = await session.execute(
        select(GuardianMandate).where(
            GuardianMandate.guardian_id == row.guardian_id,
            GuardianMandate.valid_from == row.valid_from,
            GuardianMandate.principal_subject.in_(subjects) | GuardianMandate.principal_ref.in_(under_any_version),
        )
    )
    return found.scalars().first()


async def _add_missing_versions(session: AsyncSession, principal_ref: str, pseudonyms: Sequence[Pseudonym]) -> None:
    known = set(
        await session.scalars(select(MandateSubject.key_version).where(MandateSubject.principal_ref == principal_ref))
    )
    session.add_all(
        MandateSubject(principal_ref=principal_ref, key_version=p.version, subject=p.value)
        for p in pseudonyms
        if p.version not in known
    )


async def subjects_of(session: AsyncSession, principal_ref: str) -> list[Pseudonym]:
    """The principal's pseudonyms behind a mandate, one per key version it has, newest version first."""
    rows = await session.execute(
        select(MandateSubject.subject, MandateSubject.key_version)
        .where(MandateSubject.principal_ref == principal_ref)
        .order_by(MandateSubject.key_version.desc())
    )
    return [Pseudonym(subject, version) for subject, version in rows]


async def principals_of(session: AsyncSession, guardian_id: str, on: dt.date) -> list[GuardianMandate]:
    """The guardian's mandates that allow a view on `on` (valid that day, financial scope)."""
    rows = await session.execute(
        select(GuardianMandate).where(GuardianMandate.guardian_id == guardian_id).order_by(GuardianMandate.valid_from)
    )
    return [m for m in rows.scalars() if covers_financial_matters(m.scope, m.valid_from, m.valid_to, on)]


async def mandate_for(
    session: AsyncSession, guardian_id: str, principal_ref: str, on: dt.date
) -> GuardianMandate | None:
    """The guardian's mandate behind `principal_ref` if it allows a view on `on`; None for anything else."""
    mandate = await session.get(GuardianMandate, principal_ref)
    if mandate is None or mandate.guardian_id != guardian_id:
        return None
    return mandate if covers_financial_matters(mandate.scope, mandate.valid_from, mandate.valid_to, on) else None


async def spend_assertion(session: AsyncSession, assertion: GuardianAssertion, now: dt.datetime) -> bool:
    """Record the assertion as used; False if it was used before (a replay)."""
    await session.execute(delete(SpentAssertion).where(SpentAssertion.expires_at < now))
    try:
        async with session.begin_nested():
            session.add(SpentAssertion(jti=assertion.jti[:64], expires_at=assertion.expires_at))
    except IntegrityError:
        return False
    return True
