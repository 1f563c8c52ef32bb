"""The console's signed-out sessions: a row per session ended before its cookie expired."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from broker.store.tables import ConsoleSignOut


async def record_sign_out(session: AsyncSession, session_id: str, expires_at: dt.datetime, now: dt.datetime) -> None:
    """Note a session as signed out, and forget those whose cookies have expired anyway."""
    await session.execute(delete(ConsoleSignOut).where(ConsoleSignOut.expires_at <= now))
    if await session.get(ConsoleSignOut, session_id) is None:
        session.add(ConsoleSignOut(session_id=session_id, expires_at=expires_at))


async def is_signed_out(session: AsyncSession, session_id: str) -> bool:
    """Whether the session was signed out."""
    found = await session.execute(select(ConsoleSignOut.session_id).where(ConsoleSignOut.session_id == session_id))
    return found.first() is not None
