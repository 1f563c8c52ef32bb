"""`silta guardians import FILE`: load mandates from a register extract (CSV or JSON), all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from broker.audit.pseudonym import Pseudonymiser
from broker.domain.mandates import MandateRow, parse_mandates
from broker.settings import Settings
from broker.store.mandates import upsert_mandates


def read_mandates(path: Path) -> list[MandateRow]:
    """Every row of the file checked, or `MandateImportError` naming each bad row's line."""
    kind = "json" if path.suffix.lower() == ".json" else "csv"
    return parse_mandates(path.read_text(encoding="utf-8"), kind)


async def store_mandates(settings: Settings, rows: list[MandateRow]) -> tuple[int, int]:
    """Store checked rows in one transaction: (created, updated)."""
    pseudonyms = Pseudonymiser.from_file(settings.pseudonym_key_file)
    engine = create_async_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            return await upsert_mandates(session, rows, pseudonyms, dt.datetime.now(dt.UTC))
    finally:
        await engine.dispose()
