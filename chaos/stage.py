"""Everything a chaos run runs on: PostgreSQL, the Kafka fleet (one broker or three), the keys and two Silta instances.

`staged()` brings it all up on free ports under one work folder (keys and
party keys made, database migrated, parties' keys registered, topics and ACLs
in place, instances started one after the other) and stops it all on the way
out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.console.session import ensure_session_secret
from adapters.municipality.keys import OrganiserKeys, SiltaKeys, SiltaKeySource
from broker.audit.pseudonym import ensure_pseudonym_key
from broker.crypto.keyring import KeyRing, ensure_key_ring
from broker.crypto.tokens import mint_token, public_jwks
from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import desired_acls
from broker.kafka.topics import ensure_topics
from broker.settings import PROJECT_ROOT, Settings
from broker.store.migrate import upgrade_database
from chaos.cluster_fleet import cluster_behind_proxies
from chaos.fleet import BrokerFleet, SingleBroker, connection
from chaos.instances import ServiceInstance
from chaos.proxied import MtlsThroughProxyKafka
from chaos.proxy import ProxyGroup, TcpProxy
from devinfra.kafka import fetch_kafka_jars
from devinfra.kafka_config import KafkaPorts
from devinfra.ports import free_port
from devinfra.postgres import LocalPostgres
from entrypoints.org_commands import register_local_party_keys

ISSUER, AUDIENCE = "silta-local", "silta"  # the settings' defaults, so the instances need no auth settings


@dataclass
class Stage:
    """The running parts of one chaos run."""

    work: Path
    postgres: LocalPostgres
    fleet: BrokerFleet
    token_key: Ed25519PrivateKey
    replication: int
    min_insync: int
    instances: list[ServiceInstance] = field(default_factory=list)
    proxy: TcpProxy | ProxyGroup | None = None
    """The proxy (one per broker) between the last instance and the brokers' MTLS listeners."""

    @property
    def settings(self) -> Settings:
        """Settings pointing at this stage, for the harness's own use of the service layer."""
        return Settings(
            database_url=self.postgres.url(),
            key_dir=self.work / "keys",
            party_keys_dir=self.work / "party-keys",
            pseudonym_key_file=self.work / "pseudonym.key",
            audit_checkpoint_file=self.work / "audit-checkpoints.jsonl",
        )

    def token(self, client_id: str) -> str:
        """A bearer token for one of the local clients (`kela`, `guardian-portal`, `silta-admin`, …)."""
        return mint_token(self.token_key, client_id, ISSUER, AUDIENCE, lifetime=dt.timedelta(hours=24))

    def silta_keys(self) -> SiltaKeySource:
        """Silta's public record keys as the organisers' clients know them."""
        return SiltaKeySource.fixed(SiltaKeys.from_jwks(KeyRing.load(self.work / "keys").jwks()))

    def organiser_keys(self, org: str) -> OrganiserKeys:
        """A party's own private record keys."""
        return OrganiserKeys.load(self.work / "party-keys", org)

    @property
    def proxied(self) -> ServiceInstance | None:
        """The instance that reaches Kafka through the proxy."""
        return self.instances[-1] if self.proxy is not None and self.instances else None

    def proxied_env(self, name: str) -> dict[str, str]:
        """An instance's environment with Kafka through the proxy: mutual TLS, bootstrap at the proxy."""
        env = self.service_env(name)
        if self.proxy is None:
            return env
        return env | {"SILTA_KAFKA_SECURITY_PROTOCOL": "SSL", "SILTA_KAFKA_MTLS_BOOTSTRAP_SERVERS": self.proxy.address}

    def service_env(self, name: str) -> dict[str, str]:
        """The environment of one `silta serve` instance on this stage."""
        base = {key: value for key, value in os.environ.items() if not key.startswith("SILTA_")}
        work = self.work
        return base | {
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
            "SILTA_DATABASE_URL": self.postgres.url(),
            "SILTA_KAFKA_BOOTSTRAP_SERVERS": self.fleet.bootstrap_servers,
            "SILTA_KAFKA_MTLS_BOOTSTRAP_SERVERS": self.fleet.mtls_bootstrap_servers,
            "SILTA_KAFKA_CREDENTIALS_DIR": str(self.fleet.credentials.root),
            "SILTA_KAFKA_REPLICATION_FACTOR": str(self.replication),
            "SILTA_KAFKA_MIN_INSYNC_REPLICAS": str(self.min_insync),
            "SILTA_API_PORT": str(free_port()),
            "SILTA_AUTH_JWKS_FILE": str(work / "jwks.json"),
            "SILTA_DEV_SIGNING_KEY_FILE": str(work / f"{name}-unused-dev-key.pem"),
            "SILTA_PSEUDONYM_KEY_FILE": str(work / "pseudonym.key"),
            "SILTA_CONSOLE_SESSION_KEY_FILE": str(work / "console-session.key"),
            "SILTA_KEY_DIR": str(work / "keys"),
            "SILTA_PARTY_KEYS_DIR": str(work / "party-keys"),
            "SILTA_AUDIT_CHECKPOINT_FILE": str(work / "audit-checkpoints.jsonl"),
            "SILTA_AUDIT_CHECKPOINT_INTERVAL_S": "15",
            "SILTA_RELAY_POLL_INTERVAL_S": "0.5",
            "SILTA_LOG_LEVEL": "WARNING",
        }


def make_keys(work: Path) -> Ed25519PrivateKey:
    """The token key (returned, its JWKS written), the pseudonym key, the console's session secret, the key ring."""
    key = Ed25519PrivateKey.generate()
    (work / "jwks.json").write_text(json.dumps(public_jwks(key)))
    ensure_pseudonym_key(work / "pseudonym.key")
    ensure_session_secret(work / "console-session.key")
    ensure_key_ring(work / "keys")
    return key


async def prepare(stage: Stage) -> None:
    """Migrate, register every party's keys, create the topics and grant the ACLs."""
    await upgrade_database(stage.postgres.url())
    await register_local_party_keys(stage.settings)
    created = await ensure_topics(connection(stage.fleet), 3, stage.replication, min_insync_replicas=stage.min_insync)
    await stage.fleet.topics_ready(created)
    await grant_acls(stage)


async def grant_acls(stage: Stage, attempts: int = 5) -> None:
    """Every party's ACLs; applied again (it adds only what is missing) when the broker is slow to show them."""
    for attempt in range(1, attempts + 1):
        try:
            async with AclAdmin(connection(stage.fleet)) as acls:
                await acls.apply(desired_acls())
            return
        except TimeoutError:
            if attempt == attempts:
                raise


def start_broker(work: Path, proxy_port: int) -> MtlsThroughProxyKafka:
    """The single local broker on free ports, its MTLS listener advertised at `proxy_port`."""
    kafka = MtlsThroughProxyKafka(
        fetch_kafka_jars(PROJECT_ROOT / ".cache"),
        work / "kafka",
        KafkaPorts.free(),
        work / "kafka-credentials",
        proxy_port,
    )
    kafka.start(timeout_s=180)
    return kafka


@asynccontextmanager
async def single_behind_proxy(work: Path) -> AsyncIterator[tuple[SingleBroker, TcpProxy]]:
    """The single broker under `work` and a started proxy on its MTLS listener; both stopped afterwards."""
    proxy_port = free_port()
    kafka = await asyncio.to_thread(start_broker, work, proxy_port)
    proxy = TcpProxy(proxy_port, "127.0.0.1", kafka.ports.mtls)
    await proxy.start()
    try:
        yield SingleBroker(kafka), proxy
    finally:
        await proxy.stop()
        await asyncio.to_thread(kafka.stop)


def fleet_behind_proxy(
    work: Path, brokers: int
) -> AbstractAsyncContextManager[tuple[BrokerFleet, TcpProxy | ProxyGroup]]:
    """The three-node cluster (`brokers` 3) or the single broker (1), with the proxied instance's proxies."""
    if brokers == 3:
        return cluster_behind_proxies(work)
    if brokers == 1:
        return single_behind_proxy(work)
    raise ValueError(f"CHAOS_BROKERS is 1 or 3, not {brokers}")


@asynccontextmanager
async def staged(work: Path, instances: int = 2, brokers: int = 1) -> AsyncIterator[Stage]:
    """PostgreSQL, the Kafka fleet of `brokers` and `instances` Silta processes under `work`; all stopped afterwards.

    The last instance reaches the brokers through the proxies, which the network faults act on.
    """
    key = make_keys(work)
    # a folder of its own: the server may run as the `postgres` user, who cannot enter `work`
    postgres = LocalPostgres(Path(tempfile.mkdtemp(prefix="silta-chaos-pg-")), free_port())
    postgres.start()
    try:
        async with fleet_behind_proxy(work, brokers) as (fleet, proxy):
            durability = (3, 2) if len(fleet.nodes) > 1 else (1, 1)
            stage = Stage(work, postgres, fleet, key, *durability, proxy=proxy)
            try:
                await prepare(stage)
                await start_instances(stage, instances)
                yield stage
            finally:
                for instance in stage.instances:
                    await instance.stop()
                for node in stage.fleet.nodes:
                    await node.resume()
    finally:
        postgres.stop()


async def start_instances(stage: Stage, count: int) -> None:
    """`count` instances one after the other, the last through the proxy."""
    for number in range(1, count + 1):
        name = f"instance-{number}"
        env = stage.proxied_env(name) if number == count else stage.service_env(name)
        instance = ServiceInstance(name, env, stage.work / f"{name}.log")
        stage.instances.append(instance)
        await instance.start()
