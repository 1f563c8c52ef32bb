"""Console sessions and CSRF tokens (identity-code masking is in `adapters.masking`).

A session is a signed, expiring cookie (HMAC-SHA256 over a random session id,
the client, its role and party, and the expiry) rather than a database row: no
write per page. The signing key is derived (HKDF-SHA256) from the secret in
`SILTA_CONSOLE_SESSION_KEY_FILE`, so every worker and instance with that file
accepts the others' cookies and a restart signs nobody out; replacing the file
signs everyone out. Sign-out is for good: the session id is written to the
database (`broker.services.console_sessions`) and refused from then on.

The CSRF token is a synchroniser token bound to the session id (an HMAC of it
under the same key), sent back in a hidden field or the `X-CSRF-Token` header of
every POST. The sign-in form, which has no session yet, is guarded against
login CSRF by a double submit: its GET sets a random pre-session cookie, and
the form carries that cookie's HMAC; a POST needs both to match.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from broker.crypto.keys import write_private
from broker.domain.clients import Role

COOKIE = "silta_console"
LIFETIME = dt.timedelta(minutes=30)
SIGN_IN_COOKIE = "silta_console_sign_in"
"""The pre-session cookie of the sign-in form (double submit against login CSRF)."""
SIGN_IN_LIFETIME = dt.timedelta(hours=1)
_KEY_INFO = b"silta console session cookies v1"
_SECRET_BYTES = 32


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

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_secret(cls, secret: bytes) -> SessionSigner:
        """A signer whose key is derived from `secret` (HKDF-SHA256, its own label)."""
        if len(secret) < _SECRET_BYTES:
            raise ValueError(f"the console session secret must have at least {_SECRET_BYTES} bytes")
        return cls(HKDF(hashes.SHA256(), _SECRET_BYTES, salt=None, info=_KEY_INFO).derive(secret))

    @classmethod
    def from_secret_file(cls, path: Path) -> SessionSigner:
        """A signer from the secret in `path`, or a clear error if the file is missing."""
        if not path.exists():
            raise FileNotFoundError(f"console session secret {path} not found; run `silta keys init` for a local run")
        return cls.from_secret(path.read_bytes())

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

    def sign_in_token(self, nonce: str) -> str:
        """The sign-in form's token for the nonce in its pre-session cookie."""
        return self._mac("sign-in:" + nonce)

    def sign_in_ok(self, nonce: str | None, token: str | None) -> bool:
        """Whether the form's token belongs to the pre-session cookie sent with it."""
        return bool(nonce) and token is not None and hmac.compare_digest(token, self.sign_in_token(nonce or ""))

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def ensure_session_secret(path: Path) -> None:
    """Create a random console session secret for local runs, if there is none."""
    if not path.exists():
        write_private(path, secrets.token_bytes(_SECRET_BYTES), exclusive=True)
