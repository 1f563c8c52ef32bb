"""The tamper matrix: a sealed organiser record, changed in every way an attacker could, opened by Silta."""

from __future__ import annotations

import dataclasses

import pydantic
import pytest
from joserfc.jwk import OKPKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.municipality.sender import outgoing, record_headers
from broker.crypto.keyring import KeyRing, LiveKeyRing
from broker.crypto.sealing import seal, sign
from broker.domain import headers as hdr
from broker.domain.clock import SystemClock
from broker.domain.errors import ErrorCode, Rejection
from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE
from broker.services.inbound import InboundRecord
from broker.services.party_keys import KeyRegistrationError, PartyKeyRegistry, RecordSeals
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import KAFKA_RECORD_LIMIT_BYTES, SEALABLE_MESSAGE_BYTES, Settings
from devinfra.samples import example_message
from entrypoints.bootstrap import compiled_schemas
from tests.conftest import KEY_DIR, party_keys
from tests.support.sealed import from_topic, register_party, sealed_record

DOCUMENT = example_message("decision-notice")


@pytest.fixture
async def units(sessions: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    """A store where hva-08 and hva-09 have registered their keys."""
    for party in ("hva-08", "hva-09"):
        await register_party(sessions, party)
    return UnitOfWorkFactory(sessions, SystemClock(), lambda: None)


async def _open(units: UnitOfWorkFactory, record: InboundRecord, sender: str = "hva-08") -> bytes:
    async with units() as uow:
        opened = await RecordSeals(LiveKeyRing(KEY_DIR)).open(
            uow, record.position.topic, sender, record.headers, record.value or b""
        )
        await uow.commit()
        return opened


async def _refused(units: UnitOfWorkFactory, record: InboundRecord, sender: str = "hva-08") -> ErrorCode:
    with pytest.raises(Rejection) as caught:
        await _open(units, record, sender)
    return caught.value.code


def _genuine() -> InboundRecord:
    return sealed_record(DOCUMENT, from_topic("hva-08", 0, 1))


async def test_a_genuine_record_opens_to_the_document(units: UnitOfWorkFactory) -> None:
    """Signed by hva-08's key, encrypted to Silta's: the document comes back; no element or code is outside."""
    record = _genuine()
    assert await _open(units, record) == DOCUMENT
    assert b"<" not in (record.value or b"")
    outside = " ".join(record.headers.values()) + (record.value or b"").decode()
    assert LOOKS_LIKE_IDENTITY_CODE.search(outside) is None
    assert LOOKS_LIKE_IDENTITY_CODE.search(DOCUMENT.decode()) is not None  # the document does carry one


@pytest.mark.parametrize(
    "header", [hdr.SENDER, hdr.RECIPIENT, hdr.MESSAGE_ID, hdr.MESSAGE_TYPE, hdr.CORRELATION_ID, hdr.SCHEMA]
)
async def test_changing_any_covered_header_breaks_the_signature(units: UnitOfWorkFactory, header: str) -> None:
    """Each header the signature covers, changed after signing: `signature-invalid`."""
    record = _genuine()
    changed = dataclasses.replace(record, headers={**record.headers, header: "00000000-0000-4000-8000-000000000000"})
    assert await _refused(units, changed) is ErrorCode.SIGNATURE_INVALID


async def test_a_flipped_payload_bit_breaks_the_signature(units: UnitOfWorkFactory) -> None:
    """One bit of the sealed value flipped: `signature-invalid`, the ciphertext is not even tried."""
    record = _genuine()
    value = bytearray(record.value or b"")
    value[len(value) // 2] ^= 0x01
    assert await _refused(units, dataclasses.replace(record, value=bytes(value))) is ErrorCode.SIGNATURE_INVALID


async def test_a_record_moved_to_another_topic_fails_there(units: UnitOfWorkFactory) -> None:
    """hva-08's record copied to hva-09's topic: the signature covers the topic; refused."""
    moved = dataclasses.replace(_genuine(), position=from_topic("hva-09", 0, 1))
    assert await _refused(units, moved, sender="hva-09") in {ErrorCode.KEY_UNKNOWN, ErrorCode.SIGNATURE_INVALID}


async def test_a_copy_re_signed_by_another_organiser_does_not_open(units: UnitOfWorkFactory) -> None:
    """hva-09 re-signs hva-08's ciphertext as its own: the sealed header still names hva-08, so `seal-invalid`."""
    original = _genuine()
    headers = {**{k: v for k, v in original.headers.items() if not k.startswith("silta-signature")}}
    headers[hdr.SENDER] = "hva-09"
    topic = from_topic("hva-09", 0, 1)
    value = original.value or b""
    resigned = InboundRecord(
        topic, value, {**headers, **sign(topic.topic, headers, value, party_keys("hva-09").signer)}
    )
    assert await _refused(units, resigned, sender="hva-09") is ErrorCode.SEAL_INVALID


async def test_a_replay_under_another_message_id_is_refused(units: UnitOfWorkFactory) -> None:
    """The same sealed value under a fresh message id header: the signature no longer holds."""
    record = _genuine()
    replayed = dataclasses.replace(
        record, headers={**record.headers, hdr.MESSAGE_ID: "5f0c3d2e-1b4a-4c6d-8e9f-a0b1c2d3e4f5"}
    )
    assert await _refused(units, replayed) is ErrorCode.SIGNATURE_INVALID


async def test_unsigned_unknown_foreign_and_revoked_keys_each_have_their_code(units: UnitOfWorkFactory) -> None:
    """Unsigned: `signature-missing`; an unregistered or another party's key: `key-unknown`; revoked: `key-revoked`."""
    record = _genuine()
    unsigned = {k: v for k, v in record.headers.items() if not k.startswith("silta-signature")}
    assert await _refused(units, dataclasses.replace(record, headers=unsigned)) is ErrorCode.SIGNATURE_MISSING
    unknown = {**record.headers, hdr.SIGNATURE_KEY: "hva-08-sig-99"}
    assert await _refused(units, dataclasses.replace(record, headers=unknown)) is ErrorCode.KEY_UNKNOWN
    foreign = {**record.headers, hdr.SIGNATURE_KEY: party_keys("hva-09").signer.key_id}
    assert await _refused(units, dataclasses.replace(record, headers=foreign)) is ErrorCode.KEY_UNKNOWN
    async with units() as uow:
        assert await PartyKeyRegistry().revoke(uow, party_keys("hva-08").signer.key_id)
        await uow.commit()
    assert await _refused(units, record) is ErrorCode.KEY_REVOKED


async def test_a_record_addressed_to_someone_else_than_kela_does_not_open(units: UnitOfWorkFactory) -> None:
    """Well signed and sealed for Silta, but its headers say it is for hva-06: `seal-invalid`."""
    record = _genuine()
    headers = {k: v for k, v in record.headers.items() if not k.startswith("silta-signature")}
    headers[hdr.RECIPIENT] = "hva-06"
    silta = KeyRing.load(KEY_DIR).encryption_key
    sealed, value = seal(record.position.topic, headers, DOCUMENT, silta, party_keys("hva-08").signer)
    assert await _refused(units, InboundRecord(record.position, value, sealed)) is ErrorCode.SEAL_INVALID


async def test_a_record_encrypted_to_the_wrong_key_does_not_open(units: UnitOfWorkFactory) -> None:
    """Sealed to a key that is not Silta's (well signed all the same): `seal-invalid`, nothing parsed."""
    record = _genuine()
    stranger = OKPKey.generate_key("X25519", parameters={"kid": "not-silta"})
    headers, value = seal(
        record.position.topic,
        {k: v for k, v in record.headers.items() if not k.startswith("silta-signature")},
        DOCUMENT,
        OKPKey.import_key(stranger.as_dict(private=False)),
        party_keys("hva-08").signer,
    )
    assert await _refused(units, InboundRecord(record.position, value, headers)) is ErrorCode.SEAL_INVALID


@pytest.mark.parametrize("x", [None, "AAAA", 5, "A" * 43], ids=["no-x", "short", "not-a-string", "all-zero-point"])
async def test_an_unusable_public_key_cannot_be_registered(units: UnitOfWorkFactory, x: object) -> None:
    """A JWK that would fail every record sealed to it is refused at registration, naming the key."""
    jwk = {"kty": "OKP", "crv": "X25519", "kid": "hva-08-enc-bad", "use": "enc", **({"x": x} if x is not None else {})}
    async with units() as uow:
        with pytest.raises(KeyRegistrationError, match="hva-08-enc-bad"):
            await PartyKeyRegistry().register(uow, "hva-08", {"keys": [jwk]}, "test")


async def test_a_header_the_recipient_acts_on_is_signed_too(units: UnitOfWorkFactory) -> None:
    """`silta-free-text` added after signing (or any other `silta-*` header): `signature-invalid`."""
    record = _genuine()
    flagged = dataclasses.replace(record, headers={**record.headers, hdr.FREE_TEXT: "Statement"})
    assert await _refused(units, flagged) is ErrorCode.SIGNATURE_INVALID


def test_the_largest_document_taken_in_still_fits_one_kafka_record_once_sealed() -> None:
    """At `SEALABLE_MESSAGE_BYTES` the sealed value and every header stay under Kafka's default record limit."""
    document = b"<x>" + b"a" * (SEALABLE_MESSAGE_BYTES - 7) + b"</x>"
    described = outgoing(DOCUMENT, compiled_schemas(Settings().schema_dir.resolve()), "hva-08")
    headers, value = seal(
        "silta.from.hva-08.v1",
        record_headers("hva-08", described),
        document,
        KeyRing.load(KEY_DIR).encryption_key,
        party_keys("hva-08").signer,
    )
    header_bytes = sum(len(name) + len(text.encode()) for name, text in headers.items())
    assert len(document) == SEALABLE_MESSAGE_BYTES
    assert len(value) + header_bytes + 1024 < KAFKA_RECORD_LIMIT_BYTES  # 1 KiB for the record batch's own framing
    assert Settings().max_message_bytes <= SEALABLE_MESSAGE_BYTES
    with pytest.raises(pydantic.ValidationError, match="max_message_bytes"):
        Settings(max_message_bytes=SEALABLE_MESSAGE_BYTES + 1)
