"""Silta's own message ids: stable for a retry, unpredictable for anyone else.

A receipt, a notice or a guardian's late attachment must get the same id
however often Silta handles the same thing (so the store deduplicates a
retry), yet no sender may work out that id in advance and claim it with a
message of its own. The id is an HMAC of what it stands for under a key only
Silta holds (derived from the pseudonym key with HKDF, so no new secret has
to be distributed), shaped as an RFC 9562 version 8 UUID.

The secret is always version 1 of the pseudonym key (`Pseudonymiser.id_secret`,
the bytes of `SILTA_PSEUDONYM_KEY_FILE`), never the current version: a rotation
must not change the id of a retried receipt, or the store would keep both.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_LABEL = b"silta message ids v1"


class MessageIds:
    """Derives Silta's message ids from what each one is about."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:  # noqa: PLR2004  256 bits
            raise ValueError("the id key must be at least 32 bytes")
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(secret)

    def derive(self, kind: str, *parts: str) -> str:
        """The id for `kind` (e.g. `technical-receipt`) of the thing named by `parts`."""
        material = "\x1f".join((kind, *parts)).encode()
        digest = bytearray(hmac.new(self._key, material, hashlib.sha256).digest()[:16])
        digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
        digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
        return str(uuid.UUID(bytes=bytes(digest)))
