"""End-to-end benchmark: N fictitious transfers through the REST API to the organiser client.

Starts its own PostgreSQL, Kafka and `silta serve` process (all on this
machine, as in the targets), posts N application transfers with C concurrent
clients, consumes them with the organiser client, and prints: accepted
messages/s, accept latency p50/p99, accept→consume latency p50/p99, the
service's peak RSS, and the raw aiokafka produce→consume throughput of the
same payloads as the ceiling. It prints figures; it never fails on them.

    make bench                      # N=5000, C=64
    python -m bench.e2e -n 20000 -c 128
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.console.session import ensure_session_secret
from adapters.municipality.client import OrganiserClient
from adapters.municipality.keys import OrganiserKeys, SiltaKeys, SiltaKeySource
from broker.audit.pseudonym import ensure_pseudonym_key
from broker.crypto.keyring import KeyRing, ensure_key_ring
from broker.crypto.tokens import mint_token, public_jwks
from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import desired_acls
from broker.kafka.topics import ensure_topics
from broker.settings import PROJECT_ROOT, Settings
from broker.store.migrate import upgrade_database
from devinfra.kafka import LocalKafka, fetch_kafka_jars, start_local_kafka
from devinfra.ports import free_port, wait_for_port
from devinfra.postgres import LocalPostgres
from devinfra.samples import application_transfer
from devinfra.segments import clear_text_in_segments
from entrypoints.org_commands import register_local_party_keys


@dataclass
class Timings:
    """What one run measured."""

    accepted_at: dict[str, float] = field(default_factory=dict)
    consumed_at: dict[str, float] = field(default_factory=dict)
    accept_latency: list[float] = field(default_factory=list)

    @property
    def consume_latency(self) -> list[float]:
        """From the 202 answer to the organiser client's delivery, per message."""
        return [max(0.0, done - self.accepted_at[m]) for m, done in self.consumed_at.items() if m in self.accepted_at]

    peak_rss: int = 0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) in milliseconds."""
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000
        if len(values) > 1
        else values[0] * 1000
    )


async def post_all(
    base_url: str, token: str, documents: list[tuple[str, bytes]], concurrency: int, t: Timings
) -> float:
    """Post every document with `concurrency` workers; returns the elapsed seconds.

    The load generator uses aiohttp: on this machine httpx's client tops out
    near 150 requests/s at this concurrency and would measure itself.
    """
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in documents:
        queue.put_nowait(item)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            message_id, body = queue.get_nowait()
            started = time.perf_counter()
            async with session.post("/kela/v1/messages", data=body, headers=headers) as answer:
                text = await answer.text()
            done = time.perf_counter()
            if answer.status != 202:
                raise RuntimeError(f"unexpected {answer.status}: {text[:200]}")
            t.accept_latency.append(done - started)
            t.accepted_at[message_id] = done

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - began


async def consume_all(kafka: LocalKafka, work: Path, expected: set[str], t: Timings) -> None:
    """Consume with the organiser client until every expected message arrived."""
    group = f"hva-90.bench-{uuid.uuid4().hex}"
    silta = SiltaKeySource.fixed(SiltaKeys.from_jwks(KeyRing.load(work / "keys").jwks()))
    keys = OrganiserKeys.load(work / "party-keys", "hva-90")
    connection = kafka.connection("hva-90")
    async with OrganiserClient("hva-90", connection, keys, silta, group_id=group, commit_every=200) as client:
        async for delivery in client.deliveries():
            now = time.perf_counter()
            message = delivery.message
            message_id = getattr(getattr(message, "envelope", None), "message_id", None)
            if message_id in expected:
                expected.discard(message_id)
                t.consumed_at[message_id] = now
            await client.ack(delivery)
            if not expected:
                return


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU of the service and its worker processes."""
    return sum(p.cpu_times().user + p.cpu_times().system for p in _tree(pid))


async def watch_rss(pid: int, t: Timings, stop: asyncio.Event) -> None:
    """Sample the resident memory of the service (all its processes) every 100 ms."""
    while not stop.is_set():
        t.peak_rss = max(t.peak_rss, sum(p.memory_info().rss for p in _tree(pid)))
        await asyncio.sleep(0.1)


async def raw_ceiling(kafka: LocalKafka, payloads: list[bytes]) -> float:
    """Messages/s of aiokafka alone: idempotent acks=all produce, then consume, the same payloads."""
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**kafka.connection().client_options())
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    producer = AIOKafkaProducer(**kafka.connection().client_options(), enable_idempotence=True, acks="all", linger_ms=2)
    consumer = AIOKafkaConsumer(
        topic,
        **kafka.connection().client_options(),
        group_id=topic,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    try:
        began = time.perf_counter()
        sends = [await producer.send(topic, p, key=str(i % 997).encode()) for i, p in enumerate(payloads)]
        await asyncio.gather(*sends)
        seen = 0
        while seen < len(payloads):
            batch = await consumer.getmany(timeout_ms=1000)
            seen += sum(len(records) for records in batch.values())
        return len(payloads) / (time.perf_counter() - began)
    finally:
        await producer.stop()
        await consumer.stop()


def start_service(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`silta serve` as a separate process, as in production."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if not wait_for_port(int(env["SILTA_API_PORT"]), 60):
        raise RuntimeError(f"service did not start:\n{log.read_text()[-3000:]}")
    return process


@dataclass(frozen=True)
class Figures:
    """What one run measured, printed under the names the notes and issues use."""

    n: int
    size: int
    concurrency: int
    workers: int
    elapsed: float
    service_cpu: float
    ceiling: float
    in_clear: list[str]

    def print(self, t: Timings) -> None:
        """The figures, one per line."""
        rate = self.n / self.elapsed
        print(
            f"silta end-to-end benchmark: {self.n} transfers of {self.size} bytes, {self.concurrency} concurrent"
            f" clients, {self.workers} service worker(s)"
        )
        print(f"  accepted messages/s         {rate:10.0f}")
        accept, consume = t.accept_latency, t.consume_latency
        print(f"  accept latency p50 / p99    {percentile(accept, 50):8.1f} / {percentile(accept, 99):.1f} ms")
        print(f"  accept→consume p50 / p99    {percentile(consume, 50):8.1f} / {percentile(consume, 99):.1f} ms")
        print(f"  service peak RSS            {t.peak_rss / 2**20:10.0f} MiB")
        print(f"  service CPU per message     {self.service_cpu / self.n * 1000:10.2f} ms")
        print(f"  raw aiokafka produce→consume{self.ceiling:10.0f} messages/s (ceiling)")
        print(f"  silta / raw                 {rate / self.ceiling:10.2f}")
        print(f"  found in clear on the broker{len(self.in_clear):10d} (identity codes or message elements)")
        for where in self.in_clear[:5]:
            print(f"    {where}")
        print(f"  machine: {os.cpu_count()} cores; PostgreSQL, Kafka, the service and this load generator share them")


def local_keys(work: Path) -> Ed25519PrivateKey:
    """The token key (returned), the pseudonym key and Silta's record keys under `work`."""
    key = Ed25519PrivateKey.generate()
    (work / "jwks.json").write_text(json.dumps(public_jwks(key)))
    ensure_pseudonym_key(work / "pseudonym.key")
    ensure_session_secret(work / "console-session.key")
    ensure_key_ring(work / "keys")
    return key


async def run(n: int, concurrency: int, workers: int, work: Path) -> None:
    """Set everything up, measure, print."""
    key = local_keys(work)
    postgres = LocalPostgres(Path(tempfile.mkdtemp(prefix="silta-bench-pg-")), free_port())
    postgres.start()
    kafka = start_local_kafka(fetch_kafka_jars(PROJECT_ROOT / ".cache"), work / "kafka")
    service: subprocess.Popen[bytes] | None = None
    try:
        await upgrade_database(postgres.url())
        await register_local_party_keys(Settings(database_url=postgres.url(), party_keys_dir=work / "party-keys"))
        await ensure_topics(kafka.connection(), 3, 1)
        async with AclAdmin(kafka.connection()) as acls:
            await acls.apply(desired_acls())
        env = {
            **os.environ,
            "SILTA_DATABASE_URL": postgres.url(),
            "SILTA_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "SILTA_KAFKA_CREDENTIALS_DIR": str(kafka.credentials.root),
            "SILTA_API_PORT": str(free_port()),
            "SILTA_AUTH_JWKS_FILE": str(work / "jwks.json"),
            "SILTA_API_WORKERS": str(workers),
            "SILTA_PSEUDONYM_KEY_FILE": str(work / "pseudonym.key"),
            "SILTA_CONSOLE_SESSION_KEY_FILE": str(work / "console-session.key"),
            "SILTA_KEY_DIR": str(work / "keys"),
            "SILTA_AUDIT_CHECKPOINT_FILE": str(work / "audit-checkpoints.jsonl"),
            "SILTA_LOG_LEVEL": "WARNING",
        }
        service = start_service(env, work / "service.log")
        token = mint_token(key, "kela", "silta-local", "silta")
        documents = [(mid, application_transfer(mid)) for mid in (str(uuid.uuid4()) for _ in range(n))]
        t = Timings()
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_rss(service.pid, t, stop))
        expected = {m for m, _ in documents}
        consumer = asyncio.create_task(consume_all(kafka, work, expected, t))
        await asyncio.sleep(2)  # let the consumer join its group before the clock starts
        cpu_before = tree_cpu_seconds(service.pid)
        elapsed = await post_all(f"http://127.0.0.1:{env['SILTA_API_PORT']}", token, documents, concurrency, t)
        await asyncio.wait_for(consumer, 300)
        service_cpu = tree_cpu_seconds(service.pid) - cpu_before
        stop.set()
        await watcher
        in_clear = clear_text_in_segments(kafka.data_dir)  # before the raw run, which writes plain payloads
        ceiling = await raw_ceiling(kafka, [d for _, d in documents])
        figures = Figures(n, len(documents[0][1]), concurrency, workers, elapsed, service_cpu, ceiling, in_clear)
        figures.print(t)
    finally:
        if service is not None:
            service.terminate()
            service.wait(30)
        kafka.stop()
        postgres.stop()


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5000, help="transfers to post")
    parser.add_argument("-c", type=int, default=64, help="concurrent clients")
    parser.add_argument("-w", type=int, default=1, help="service worker processes (SILTA_API_WORKERS)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="silta-bench-"))
    try:
        asyncio.run(run(args.n, args.c, args.w, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
