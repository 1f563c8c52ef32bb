"""Fixtures shared by every test: signing keys, tokens, and the real servers.

The servers (Apache Kafka in KRaft mode from the official jars, PostgreSQL from
Debian's package) start once per session, on free ports with their data in
temporary folders, and only when a test asks for them. The Alembic migrations
run once per session, into a template database; each test gets a clone of it
of its own, dropped when the test ends.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.municipality.keys import OrganiserKeys, SiltaKeys, SiltaKeySource
from broker.crypto.assertions import mint_guardian_assertion
from broker.crypto.keyring import KeyRing, ensure_key_ring
from broker.crypto.tokens import Caller, mint_token, public_jwks
from broker.settings import PROJECT_ROOT
from devinfra.kafka import LocalKafka, fetch_kafka_jars, start_local_kafka
from devinfra.ports import free_port
from devinfra.postgres import LocalPostgres
from devinfra.segments import clear_text_in_segments
from tests.support.databases import DatabaseClones, scratch_dir

# Every Settings() in the tests uses a pseudonym key of their own, never a developer's.
_PSEUDONYM_KEY = Path(tempfile.mkdtemp(prefix="silta-test-keys-")) / "pseudonym.key"
_PSEUDONYM_KEY.write_bytes(b"k" * 32)
os.environ["SILTA_PSEUDONYM_KEY_FILE"] = str(_PSEUDONYM_KEY)
# Silta's record keys (a ring of its own) and every party's keys, as their case systems would hold them.
KEY_DIR = _PSEUDONYM_KEY.with_name("record-keys")
ensure_key_ring(KEY_DIR)
os.environ["SILTA_KEY_DIR"] = str(KEY_DIR)
PARTY_KEYS_DIR = _PSEUDONYM_KEY.with_name("party-keys")
os.environ["SILTA_PARTY_KEYS_DIR"] = str(PARTY_KEYS_DIR)


def silta_keys() -> SiltaKeySource:
    """Silta's public keys as the organisers' clients fetch them, from the test ring as it is now."""
    return SiltaKeySource.fixed(SiltaKeys.from_jwks(KeyRing.load(KEY_DIR).jwks()))


def party_keys(party: str) -> OrganiserKeys:
    """A party's own private keys (made by `register_local_party_keys` when the template database is built)."""
    if not (PARTY_KEYS_DIR / party / "keys.json").exists():
        OrganiserKeys.new(PARTY_KEYS_DIR, party)
    return OrganiserKeys.load(PARTY_KEYS_DIR, party)


# … signs the console's session cookies with a secret of the test run's own (every app of the run shares it) …
_CONSOLE_SECRET = _PSEUDONYM_KEY.with_name("console-session.key")
_CONSOLE_SECRET.write_bytes(os.urandom(32))
os.environ["SILTA_CONSOLE_SESSION_KEY_FILE"] = str(_CONSOLE_SECRET)
# … and writes its log checkpoints to a file of the test run's own, never into the project's .silta/.
os.environ["SILTA_AUDIT_CHECKPOINT_FILE"] = str(_PSEUDONYM_KEY.with_name("audit-checkpoints.jsonl"))


ISSUER = "silta-test"
AUDIENCE = "silta"
CLIENTS = {
    "kela": "kela",
    "hva-08-case-system": "hva-08",
    "hva-06-case-system": "hva-06",
    "guardian-portal": "guardian-portal",
    "silta-admin": "silta-admin",
}
GUARDIAN_ISSUER = "guardian-portal"
GUARDIAN_AUDIENCE = "silta-guardian"
KELA = Caller("kela", "kela")


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    """The key tests sign their tokens with."""
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def jwks_file(tmp_path_factory: pytest.TempPathFactory, signing_key: Ed25519PrivateKey) -> Path:
    """A JWKS file holding the public half of `signing_key`."""
    path = tmp_path_factory.mktemp("keys") / "jwks.json"
    path.write_text(json.dumps(public_jwks(signing_key)))
    return path


@pytest.fixture(scope="session")
def guardian_headers(signing_key: Ed25519PrivateKey, token_for: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Headers of a guardians' portal call: its service token and a fresh single-use guardian assertion."""

    def headers(guardian_id: str, lifetime: dt.timedelta = dt.timedelta(minutes=2)) -> dict[str, str]:
        assertion = mint_guardian_assertion(
            signing_key, guardian_id, "guardian-portal", GUARDIAN_ISSUER, GUARDIAN_AUDIENCE, lifetime=lifetime
        )
        return {"Authorization": f"Bearer {token_for('guardian-portal')}", "X-Guardian-Assertion": assertion}

    return headers


@pytest.fixture(scope="session")
def token_for(signing_key: Ed25519PrivateKey) -> Callable[..., str]:
    """Mint a bearer token for a client id (optionally already expired)."""

    def mint(client_id: str = "kela", lifetime: dt.timedelta = dt.timedelta(minutes=10)) -> str:
        return mint_token(signing_key, client_id, ISSUER, AUDIENCE, lifetime=lifetime)

    return mint


@pytest.fixture(scope="session")
def kafka() -> Iterator[LocalKafka]:
    """One real Kafka broker+controller for the whole session, secured as `make run`'s, every party's ACLs granted."""
    data = Path(tempfile.mkdtemp(prefix="silta-kafka-"))
    broker = start_local_kafka(fetch_kafka_jars(PROJECT_ROOT / ".cache"), data)
    broker.grant_party_acls()
    yield broker
    # Its data is thrown away: no need to wait out a clean shutdown (often 5-15 s) before SIGKILL.
    broker.stop(timeout_s=2)
    try:  # everything the run sent went over this broker: none of it may be on its disk in clear
        in_clear = clear_text_in_segments(broker.data_dir)
        assert not in_clear, f"found on the test broker's disk in clear: {in_clear[:5]}"
    finally:
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """One real PostgreSQL server for the whole session."""
    server = LocalPostgres(scratch_dir("silta-pg-"), free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def database_clones(postgres: LocalPostgres) -> DatabaseClones:
    """The session's template database, migrated once with Alembic, to clone per test."""
    clones = DatabaseClones(postgres)
    await clones.build_template()
    return clones


@pytest.fixture
async def database_url(database_clones: DatabaseClones) -> AsyncIterator[str]:
    """A fresh database for one test, cloned from the migrated template and dropped afterwards."""
    url = await database_clones.clone()
    yield url
    await database_clones.drop(url)
