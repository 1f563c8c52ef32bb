"""Keyed pseudonyms of personal identity codes for the logs: HMAC-SHA256, never the code in clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class Pseudonymiser:
    """Maps an identity code to a stable pseudonym that cannot be reversed without the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:  # noqa: PLR2004  256 bits
            raise ValueError("the pseudonym key must be at least 32 bytes")
        self._key = key

    def of(self, identity_code: str) -> str:
        """The pseudonym of one identity code."""
        return hmac.new(self._key, identity_code.encode(), hashlib.sha256).hexdigest()

    @classmethod
    def from_file(cls, path: Path) -> Pseudonymiser:
        """Load the key; the same key must be used for as long as the logs are kept (12 years)."""
        if not path.exists():
            raise FileNotFoundError(f"pseudonym key {path} not found; run `silta keys init` for a local run")
        return cls(path.read_bytes())


def ensure_pseudonym_key(path: Path) -> None:
    """Create a random key file for local runs, if there is none."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
