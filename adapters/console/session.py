"""Console sessions, CSRF tokens and identity-code masking.

A session is a signed, expiring cookie (HMAC-SHA256 over a random session id,
the client, its role and party, and the expiry) rather than a database row: no
migration, no write per page, and nothing to clean up. The signing key is drawn
at start-up, so a restart signs every operator out (they sign in again with
their token). The CSRF token is a synchroniser token bound to the session id
(an HMAC of it under the same key), sent back in a hidden field or the
`X-CSRF-Token` header of every POST.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from broker.domain.clients import Role
from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE

COOKIE = "silta_console"
LIFETIME = dt.timedelta(minutes=30)

UNMASKED_ROLES = frozenset({Role.KELA_DATA_PROTECTION})
"""Roles that may see personal identity codes in full; the operator and the admin see them masked."""


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in console user."""

    session_id: str
    client_id: str
    role: Role
    party: str
    expires_at: dt.datetime


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens with one key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self, client_id: str, role: Role, party: str, now: dt.datetime) -> tuple[ConsoleSession, str]:
        """A new session and its cookie value."""
        session = ConsoleSession(secrets.token_urlsafe(24), client_id, role, party, now + LIFETIME)
        body = json.dumps(
            [session.session_id, client_id, str(role), party, int(session.expires_at.timestamp())]
        ).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return session, f"{payload}.{self._mac(payload)}"

    def read(self, cookie: str | None, now: dt.datetime) -> ConsoleSession | None:
        """The session of a cookie value, or None if it is missing, forged, malformed or expired."""
        if not cookie or "." not in cookie:
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            sid, client_id, role, party, expires = json.loads(
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            )
            session = ConsoleSession(sid, client_id, Role(role), party, dt.datetime.fromtimestamp(expires, dt.UTC))
        except (ValueError, TypeError):
            return None
        return session if session.expires_at > now else None

    def csrf_token(self, session: ConsoleSession) -> str:
        """The synchroniser token of a session."""
        return self._mac("csrf:" + session.session_id)

    def csrf_ok(self, session: ConsoleSession, token: str | None) -> bool:
        """Whether `token` is the session's CSRF token."""
        return token is not None and hmac.compare_digest(token, self.csrf_token(session))

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def mask_identity_codes(text: str, role: Role) -> str:
    """`text` with every personal identity code masked (010190-9***) unless `role` may see them."""
    if role in UNMASKED_ROLES:
        return text
    return LOOKS_LIKE_IDENTITY_CODE.sub(lambda m: f"{m.group(0)[:8]}***", text)
