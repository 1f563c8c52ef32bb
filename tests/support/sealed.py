"""Records sealed as an organiser's case system seals them, and its keys registered, for tests of Silta's side."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.municipality.keys import OrganiserKeys
from adapters.municipality.sender import Outgoing, outgoing, record_headers
from broker.crypto.keyring import KeyRing
from broker.crypto.sealing import seal
from broker.domain.clock import SystemClock
from broker.domain.topics import topic_from
from broker.services.inbound import InboundRecord
from broker.services.party_keys import PartyKeyRegistry
from broker.services.receipts import RecordPosition
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from entrypoints.bootstrap import compiled_schemas
from tests.conftest import KEY_DIR, PARTY_KEYS_DIR, party_keys


def sealed_record(
    document: bytes, position: RecordPosition, org: str = "hva-08", described: Outgoing | None = None
) -> InboundRecord:
    """`document` as `org` sends it: checked (unless `described` is given), encrypted to Silta, signed by `org`."""
    described = described or outgoing(document, compiled_schemas(Settings().schema_dir.resolve()), org)
    headers, value = seal(
        position.topic,
        record_headers(org, described),
        document,
        KeyRing.load(KEY_DIR).encryption_key,
        party_keys(org).signer,
    )
    return InboundRecord(position, value, headers)


async def register_party(sessions: async_sessionmaker[AsyncSession], party: str) -> None:
    """Register `party`'s public keys, as the operator does with `silta org keys register`."""
    party_keys(party)
    units = UnitOfWorkFactory(sessions, SystemClock(), lambda: None)
    async with units() as uow:
        await PartyKeyRegistry().register(uow, party, OrganiserKeys.public(PARTY_KEYS_DIR, party), "test")
        await uow.commit()


def from_topic(org: str, partition: int, offset: int) -> RecordPosition:
    """A position on `org`'s from-topic."""
    return RecordPosition(topic_from(org), partition, offset)
