"""The `party_keys` table: parties' public keys by key id."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from broker.store.tables import PartyKey


@dataclass(frozen=True)
class RegisteredKey:
    """One registered public key."""

    key_id: str
    party: str
    use: str
    jwk: dict[str, Any]
    source: str
    registered_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def revoked(self) -> bool:
        """True once the key no longer verifies or is encrypted to."""
        return self.revoked_at is not None


def _registered(row: PartyKey) -> RegisteredKey:
    return RegisteredKey(
        row.key_id, row.party, row.use, json.loads(row.jwk), row.source, row.registered_at, row.revoked_at
    )


async def find_key(session: AsyncSession, key_id: str) -> RegisteredKey | None:
    """The key with this id, revoked or not."""
    row = await session.get(PartyKey, key_id)
    return _registered(row) if row is not None else None


async def keys_of(session: AsyncSession, party: str | None = None) -> list[RegisteredKey]:
    """Every key of a party (or of all), oldest first."""
    query = select(PartyKey).order_by(PartyKey.party, PartyKey.registered_at, PartyKey.key_id)
    if party is not None:
        query = query.where(PartyKey.party == party)
    return [_registered(row) for row in (await session.scalars(query)).all()]


async def current_encryption_keys(session: AsyncSession, parties: Iterable[str]) -> dict[str, RegisteredKey]:
    """Per party, its newest encryption key not revoked: the one new records are sealed to."""
    query = (
        select(PartyKey)
        .where(PartyKey.party.in_(set(parties)), PartyKey.use == "enc", PartyKey.revoked_at.is_(None))
        .order_by(PartyKey.registered_at, PartyKey.key_id)
    )
    return {row.party: _registered(row) for row in (await session.scalars(query)).all()}


async def add_key(session: AsyncSession, key: RegisteredKey) -> None:
    """Store a new key."""
    session.add(
        PartyKey(
            key_id=key.key_id,
            party=key.party,
            use=key.use,
            jwk=json.dumps(key.jwk, sort_keys=True),
            source=key.source,
            registered_at=key.registered_at,
            revoked_at=None,
        )
    )


async def revoke_key(session: AsyncSession, key_id: str, at: dt.datetime) -> bool:
    """Mark a key revoked; False if there is no such key not yet revoked."""
    result = await session.execute(
        update(PartyKey).where(PartyKey.key_id == key_id, PartyKey.revoked_at.is_(None)).values(revoked_at=at)
    )
    return bool(getattr(result, "rowcount", 0))
