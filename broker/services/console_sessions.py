"""Signing out of the console for good: a signed-out session's cookie is refused by every instance.

The cookie itself stays valid until it expires (it is signed, not stored), so
sign-out writes the session id to the database; the console's guard looks it
up on every page. The edge commits.
"""

from __future__ import annotations

import datetime as dt

from broker.services.unit_of_work import UnitOfWork
from broker.store.console_sessions import is_signed_out, record_sign_out


async def end_session(uow: UnitOfWork, session_id: str, expires_at: dt.datetime) -> None:
    """Sign a session out until its cookie expires."""
    await record_sign_out(uow.session, session_id, expires_at, uow.now)


async def session_ended(uow: UnitOfWork, session_id: str) -> bool:
    """Whether a session was signed out."""
    return await is_signed_out(uow.session, session_id)
