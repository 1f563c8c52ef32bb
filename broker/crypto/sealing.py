"""The sealed record: encrypted to its recipient, then signed by its sender, bound to its topic.

Both directions use one format, so Silta and the organisers' reference client
share this module:

1. **Encrypt** the XML with JWE (RFC 7516) compact serialisation,
   `ECDH-ES+A256KW` + `A256GCM`, to the recipient's X25519 key (`kid` names
   it). The protected header, authenticated by AES-GCM, carries the message
   id, type, sender, recipient and schema; nothing personal is outside the
   ciphertext.
2. **Sign** with the sender's Ed25519 key: the signature covers the topic, the
   sender, recipient, message id, type, correlation id and schema headers and
   the SHA-256 of the JWE bytes. The key id travels in `silta-signature-key`.

Encrypt-then-sign, so that a recipient verifies before it decrypts anything:
a forged or moved record is refused without touching the ciphertext, and who
signed is visible to the broker's tools. The signature cannot be stripped and
replaced by another party's: the authenticated JWE header names the sender,
and the recipient checks it against the verified signer.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from broker.crypto.keys import b64url_decode
from broker.domain import headers as hdr
from broker.domain.errors import ErrorCode, ErrorItem, Rejection

SEAL_VERSION = "silta-seal-2"
_SEALED = (hdr.MESSAGE_ID, hdr.MESSAGE_TYPE, hdr.SENDER, hdr.RECIPIENT, hdr.SCHEMA)
_UNSIGNED = frozenset({hdr.SIGNATURE, hdr.SIGNATURE_KEY})
_REGISTRY = jwe.JWERegistry(
    header_registry={name: HeaderParameter(name, "str", required=True) for name in _SEALED},
    algorithms=["ECDH-ES+A256KW", "A256GCM"],
)


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key and its id."""

    key_id: str
    key: Ed25519PrivateKey


def signed_bytes(topic: str, headers: Mapping[str, str], value: bytes) -> bytes:
    """What a signature covers: the topic, every `silta-*` header but the signature's own, the value's hash.

    Headers are sorted and each is length-prefixed, so no header can be moved into another's value; one a
    recipient acts on (`silta-free-text`, `silta-receipted-position`, …) cannot be added, dropped or changed.
    """
    covered = sorted(
        (name, text) for name, text in headers.items() if name.startswith("silta-") and name not in _UNSIGNED
    )
    fields = [f"{len(name)}:{name}={len(text)}:{text}" for name, text in covered]
    return "\n".join([SEAL_VERSION, topic, *fields, hashlib.sha256(value).hexdigest()]).encode()


def encrypt(headers: Mapping[str, str], plaintext: bytes, recipient_key: OKPKey) -> bytes:
    """The JWE of `plaintext` for the recipient's X25519 key, the identifying headers authenticated with it."""
    protected = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "kid": str(recipient_key.kid), "cty": "application/xml"}
    protected |= {name: headers[name] for name in _SEALED}
    return jwe.encrypt_compact(protected, plaintext, recipient_key, registry=_REGISTRY).encode()


def sign(topic: str, headers: Mapping[str, str], value: bytes, signer: SigningKey) -> dict[str, str]:
    """The signature headers for a record with these headers and this (sealed) value on `topic`."""
    signature = signer.key.sign(signed_bytes(topic, headers, value))
    return {hdr.SIGNATURE: base64.urlsafe_b64encode(signature).decode(), hdr.SIGNATURE_KEY: signer.key_id}


def seal(
    topic: str, headers: Mapping[str, str], plaintext: bytes, recipient_key: OKPKey, signer: SigningKey
) -> tuple[dict[str, str], bytes]:
    """Encrypt, then sign: the record's headers (with the signature) and its sealed value."""
    value = encrypt(headers, plaintext, recipient_key)
    return {**headers, **sign(topic, headers, value, signer)}, value


def signature_key_id(headers: Mapping[str, str]) -> str:
    """The id of the key a record claims to be signed with; `signature-missing` if it is not signed."""
    if not headers.get(hdr.SIGNATURE) or not headers.get(hdr.SIGNATURE_KEY):
        raise Rejection(ErrorCode.SIGNATURE_MISSING, "the record carries no signature", [_header(hdr.SIGNATURE)])
    return headers[hdr.SIGNATURE_KEY]


def verify(topic: str, headers: Mapping[str, str], value: bytes, public_key: Ed25519PublicKey) -> None:
    """Check the record's signature on this topic; `signature-invalid` if anything it covers was changed."""
    try:
        public_key.verify(base64.urlsafe_b64decode(headers.get(hdr.SIGNATURE, "")), signed_bytes(topic, headers, value))
    except (InvalidSignature, ValueError):
        raise Rejection(
            ErrorCode.SIGNATURE_INVALID,
            f"the signature does not cover this record on {topic}: altered, moved or signed by another key",
            [_header(hdr.SIGNATURE)],
        ) from None


def decrypt(headers: Mapping[str, str], value: bytes, keys: Mapping[str, OKPKey]) -> bytes:
    """The plaintext, if the JWE is for one of `keys` and its authenticated header matches the record's headers."""
    try:
        sealed = jwe.decrypt_compact(value, _key_for(value, keys), registry=_REGISTRY)
    except (JoseError, ValueError, KeyError, TypeError) as error:  # also an epk of another curve
        raise _seal_invalid(
            f"the payload cannot be opened with the recipient's keys ({type(error).__name__})"
        ) from None
    differing = [name for name in _SEALED if sealed.protected.get(name) != headers.get(name)]
    if differing:
        raise _seal_invalid(f"the sealed header differs from the record's in {', '.join(differing)}")
    return sealed.plaintext or b""


def _key_for(value: bytes, keys: Mapping[str, OKPKey]) -> OKPKey:
    try:
        protected = json.loads(b64url_decode(value.split(b".", 1)[0]))
        if not isinstance(protected, dict):
            raise ValueError("the protected header is not an object")
    except ValueError as error:  # also JSON and base64 errors
        raise _seal_invalid(f"the payload is not a JWE ({type(error).__name__})") from None
    key = keys.get(str(protected.get("kid", "")))
    if key is None:
        raise _seal_invalid(f"the payload is sealed to key {protected.get('kid')!r}, not to the recipient's")
    return key


def _seal_invalid(detail: str) -> Rejection:
    return Rejection(ErrorCode.SEAL_INVALID, detail, [ErrorItem("/", "sealed payload")])


def _header(name: str) -> ErrorItem:
    return ErrorItem(f"header {name}", "missing or invalid")
