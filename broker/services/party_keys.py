"""The registry of parties' public keys, and the two things Silta does with it: verify and seal.

An organiser registers its Ed25519 signing keys (`use` sig) and X25519
encryption keys (`use` enc) as a JWKS, from a file or its JWKS URL (`silta org
keys register`). Silta verifies an organiser's record with the key its
`silta-signature-key` names, which must be that organiser's and not revoked;
it seals a record for a party to that party's newest encryption key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from broker.crypto.keyring import LiveKeyRing
from broker.crypto.keys import b64url_decode
from broker.crypto.sealing import decrypt, encrypt, seal, signature_key_id, verify
from broker.domain import headers as hdr
from broker.domain.accepted import OutboundRecord
from broker.domain.errors import ErrorCode, ErrorItem, Rejection
from broker.domain.parties import KELA, role_of
from broker.services.unit_of_work import UnitOfWork
from broker.store.party_keys import RegisteredKey, add_key, current_encryption_keys, find_key, keys_of, revoke_key

log = structlog.get_logger(__name__)
_CURVE_OF_USE = {"sig": "Ed25519", "enc": "X25519"}


class KeyRegistrationError(ValueError):
    """A JWKS that cannot be registered; the message says which key and why."""


def _checked(party: str, jwk: Mapping[str, Any]) -> tuple[str, str]:
    """The key id and use of one public JWK, or why it cannot be registered."""
    kid, use = jwk.get("kid"), jwk.get("use")
    if not isinstance(kid, str) or not kid:
        raise KeyRegistrationError(f"a key of {party} has no `kid`")
    if use not in _CURVE_OF_USE or jwk.get("kty") != "OKP" or jwk.get("crv") != _CURVE_OF_USE[str(use)]:
        raise KeyRegistrationError(f"{kid}: expected an OKP Ed25519 key with use sig or X25519 with use enc")
    if "d" in jwk:
        raise KeyRegistrationError(f"{kid}: a private key; register only the public half")
    try:  # a key that does not work would fail every record sealed to it, or verified with it
        if use == "sig":
            _ed25519_of(str(jwk["x"]))
        else:
            encrypt(_PROBE_HEADERS, b"<probe/>", _okp_of(kid, "X25519", str(jwk["x"])))
    except (KeyError, ValueError, TypeError, JoseError) as error:
        raise KeyRegistrationError(f"{kid}: not a usable {_CURVE_OF_USE[str(use)]} public key ({error})") from None
    return kid, str(use)


_PROBE_HEADERS = {
    hdr.MESSAGE_ID: "probe",
    hdr.MESSAGE_TYPE: "probe",
    hdr.SENDER: "silta",
    hdr.RECIPIENT: "probe",
    hdr.SCHEMA: "probe",
}


class PartyKeyRegistry:
    """Register, list and revoke parties' keys."""

    async def register(self, uow: UnitOfWork, party: str, jwks: Mapping[str, Any], source: str) -> list[str]:
        """Add the keys of a JWKS not yet registered; returns their ids. A key id of another party is refused."""
        if role_of(party) is None:
            raise KeyRegistrationError(f"{party!r} is not a party id")
        added: list[str] = []
        for jwk in jwks.get("keys", []):
            kid, use = _checked(party, jwk)
            existing = await find_key(uow.session, kid)
            if existing is not None and existing.party != party:
                raise KeyRegistrationError(f"{kid} is registered for {existing.party}")
            if existing is None:
                public = {name: jwk[name] for name in ("kty", "crv", "x", "kid", "use") if name in jwk}
                await add_key(uow.session, RegisteredKey(kid, party, use, public, source, uow.now, None))
                added.append(kid)
        return added

    async def revoke(self, uow: UnitOfWork, key_id: str) -> bool:
        """Revoke a key now; records signed with it are refused from now on (`key-revoked`)."""
        return await revoke_key(uow.session, key_id, uow.now)

    async def listing(self, uow: UnitOfWork, party: str | None = None) -> list[RegisteredKey]:
        """Every key of a party, or of all parties."""
        return await keys_of(uow.session, party)


@dataclass(frozen=True)
class RecordSeals:
    """Seals Silta's records for their recipients and opens the organisers' records for Silta."""

    ring: LiveKeyRing

    async def seal_all(self, uow: UnitOfWork, records: Sequence[OutboundRecord]) -> list[OutboundRecord | None]:
        """Each record encrypted to its recipient's current key and signed with Silta's; None if it has no key."""
        if not records:
            return []
        keys = await current_encryption_keys(uow.session, {r.headers.get(hdr.RECIPIENT, "") for r in records})
        signer = self.ring.current().signer
        sealed: list[OutboundRecord | None] = []
        for record in records:
            registered = keys.get(record.headers.get(hdr.RECIPIENT, ""))
            if registered is None:
                sealed.append(None)
                continue
            try:
                headers, value = seal(record.topic, record.headers, record.value, _okp(registered.jwk), signer)
            except (KeyError, ValueError, TypeError, JoseError) as error:  # a key that slipped past registration
                log.error("outbox_recipient_key_unusable", key_id=registered.key_id, error=type(error).__name__)
                sealed.append(None)
                continue
            sealed.append(OutboundRecord(record.topic, record.key, headers, value))
        return sealed

    async def open(self, uow: UnitOfWork, topic: str, sender: str, headers: Mapping[str, str], value: bytes) -> bytes:
        """Verify an organiser's record with its registered key, then decrypt it with Silta's keys."""
        kid = signature_key_id(headers)
        registered = await find_key(uow.session, kid)
        if registered is None or registered.use != "sig" or registered.party != sender:
            raise Rejection(
                ErrorCode.KEY_UNKNOWN,
                f"{kid!r} is not a registered signing key of {sender}",
                [ErrorItem("header silta-signature-key", "unknown key")],
            )
        if registered.revoked:
            raise Rejection(ErrorCode.KEY_REVOKED, f"{kid} was revoked", [ErrorItem("header silta-signature-key", kid)])
        verify(topic, headers, value, _ed25519(registered.jwk))
        if headers.get(hdr.SENDER) != sender:
            raise Rejection(ErrorCode.SENDER_NOT_TOPIC_OWNER, f"a record on {sender}'s topic must be sent by {sender}")
        if headers.get(hdr.RECIPIENT) != KELA:
            raise Rejection(
                ErrorCode.SEAL_INVALID, f"a record on {topic} is for Kela, not {headers.get(hdr.RECIPIENT)}"
            )
        return decrypt(headers, value, self.ring.current().decryption_keys)


def _okp(jwk: Mapping[str, Any]) -> OKPKey:
    return _okp_of(str(jwk.get("kid", "")), str(jwk["crv"]), str(jwk["x"]))


@functools.lru_cache(maxsize=1024)
def _okp_of(kid: str, curve: str, x: str) -> OKPKey:
    """A parsed public key, kept: keys are immutable, and parsing one per record costs more than sealing."""
    return OKPKey.import_key({"kty": "OKP", "crv": curve, "x": x, "kid": kid})


def _ed25519(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    return _ed25519_of(str(jwk["x"]))


@functools.lru_cache(maxsize=1024)
def _ed25519_of(x: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))
