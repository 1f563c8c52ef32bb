"""Signatures on the records Silta publishes, so a case system can tell they came from Silta unaltered.

Ed25519 over the message id, type, sender, recipient and the SHA-256 of the
record value; carried in the `silta-signature` header with the key id in
`silta-signature-key`. Organisers verify with Silta's public key.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from broker.crypto.keys import load_ed25519_key
from broker.domain import headers as hdr

SIGNATURE_HEADER = hdr.SIGNATURE
KEY_ID_HEADER = hdr.SIGNATURE_KEY
_SIGNED_HEADERS = (hdr.MESSAGE_ID, hdr.MESSAGE_TYPE, hdr.SENDER, hdr.RECIPIENT)


def signed_bytes(headers: dict[str, str], value: bytes) -> bytes:
    """The bytes a signature covers: the identifying headers and the hash of the value."""
    fields = [headers.get(name, "") for name in _SIGNED_HEADERS]
    return "\n".join([*fields, hashlib.sha256(value).hexdigest()]).encode()


class RecordSigner:
    """Signs outgoing records with Silta's private key."""

    def __init__(self, private_key: Ed25519PrivateKey, key_id: str) -> None:
        self._key = private_key
        self.key_id = key_id

    def signature_headers(self, headers: dict[str, str], value: bytes) -> dict[str, str]:
        """The two headers to add to a record with these headers and this value."""
        signature = self._key.sign(signed_bytes(headers, value))
        return {SIGNATURE_HEADER: base64.urlsafe_b64encode(signature).decode(), KEY_ID_HEADER: self.key_id}

    @classmethod
    def from_file(cls, path: Path, key_id: str) -> RecordSigner:
        """Load the private key (PEM, PKCS#8)."""
        return cls(load_ed25519_key(path), key_id)


def verify_record(public_key: Ed25519PublicKey, headers: dict[str, str], value: bytes) -> bool:
    """True if the record carries a valid signature by `public_key`."""
    encoded = headers.get(SIGNATURE_HEADER)
    if not encoded:
        return False
    try:
        public_key.verify(base64.urlsafe_b64decode(encoded), signed_bytes(headers, value))
    except (InvalidSignature, ValueError):
        return False
    return True
