"""End-to-end benchmark: fictitious transfers through the REST API to the organiser client, and its answers back.

Starts its own PostgreSQL, secured Kafka (SASL_SSL, ACLs) and `silta serve` process, all on this machine as
in the targets. Kela's clients post application transfers over REST; Silta signs each record and encrypts it
to its recipient; the organiser client (adapters/municipality) verifies, decrypts and consumes them and, with
`--mix`, answers a share with signed, encrypted transfer returns over Kafka, which Silta receipts. It prints
accepted messages/s, accept latency and accept→consume latency p50/p99, the answers' latency to their receipt,
CPU per message, resident memory over time, and the raw aiokafka produce→consume throughput of the same
payloads on the same bus as the ceiling. It prints figures; it never fails on them.

    make bench                                            # 5000 transfers, 64 clients, one worker
    make bench BENCH_ARGS="--messages 20000 --size 5000 --rate 400 --mix 0.2 --workers 2 --profile"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.console.session import ensure_session_secret
from bench.figures import Figures, Run, Timings
from bench.load import Expected, organiser, post_all
from bench.profile import Profiler, profiler_for
from bench.rss import RssSeries, sample_rss
from bench.service import Service, start_service, wait_until_settled
from bench.workload import answered, padded_transfer, send_schedule
from broker.audit.pseudonym import ensure_pseudonym_key
from broker.crypto.keyring import ensure_key_ring
from broker.crypto.tokens import mint_token, public_jwks
from broker.kafka.acl_admin import AclAdmin
from broker.kafka.acls import desired_acls
from broker.kafka.topics import ensure_topics
from broker.settings import PROJECT_ROOT, Settings
from broker.store.migrate import upgrade_database
from devinfra.kafka import LocalKafka, fetch_kafka_jars, start_local_kafka
from devinfra.ports import free_port
from devinfra.postgres import LocalPostgres
from devinfra.segments import clear_text_in_segments
from entrypoints.org_commands import register_local_party_keys


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


def local_keys(work: Path) -> Ed25519PrivateKey:
    """The token key (returned), the pseudonym key and Silta's record keys under `work`."""
    key = Ed25519PrivateKey.generate()
    (work / "jwks.json").write_text(json.dumps(public_jwks(key)))
    ensure_pseudonym_key(work / "pseudonym.key")
    ensure_session_secret(work / "console-session.key")
    ensure_key_ring(work / "keys")
    return key


async def prepare(postgres: LocalPostgres, kafka: LocalKafka, work: Path) -> dict[str, str]:
    """Database migrated, parties' keys registered, topics and ACLs in place; the service's environment."""
    await upgrade_database(postgres.url())
    await register_local_party_keys(Settings(database_url=postgres.url(), party_keys_dir=work / "party-keys"))
    await ensure_topics(kafka.connection(), 3, 1)
    async with AclAdmin(kafka.connection()) as acls:
        await acls.apply(desired_acls())
    return {
        **os.environ,
        "SILTA_DATABASE_URL": postgres.url(),
        "SILTA_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "SILTA_KAFKA_CREDENTIALS_DIR": str(kafka.credentials.root),
        "SILTA_API_PORT": str(free_port()),
        "SILTA_AUTH_JWKS_FILE": str(work / "jwks.json"),
        "SILTA_PSEUDONYM_KEY_FILE": str(work / "pseudonym.key"),
        "SILTA_CONSOLE_SESSION_KEY_FILE": str(work / "console-session.key"),
        "SILTA_KEY_DIR": str(work / "keys"),
        "SILTA_AUDIT_CHECKPOINT_FILE": str(work / "audit-checkpoints.jsonl"),
        "SILTA_LOG_LEVEL": "WARNING",
    }


async def measure(run: Run, service: Service, kafka: LocalKafka, work: Path, *, base_url: str, token: str) -> None:
    """Post, consume and answer; then the ceiling on the same bus; print the figures."""
    documents = [(mid, padded_transfer(mid, run.size)) for mid in (str(uuid.uuid4()) for _ in range(run.messages))]
    ids = [m for m, _ in documents]
    t, rss, stop = Timings(), RssSeries(), asyncio.Event()
    expected = Expected(set(ids), answered(ids, run.mix))
    consumer = asyncio.create_task(organiser(kafka, work, expected, t))
    await asyncio.sleep(2)  # let the consumer join its group before the clock starts
    sampler = asyncio.create_task(sample_rss(service.rss, rss, stop))
    cpu_before = service.cpu_seconds()
    if service.profiler is not None:
        service.profiler.attach(service.pid)
    schedule = send_schedule(run.messages, run.rate)
    elapsed = await post_all(base_url, token, documents, schedule=schedule, clients=run.clients, t=t)
    await asyncio.wait_for(consumer, 300 + run.messages / 50)
    service_cpu = service.cpu_seconds() - cpu_before
    if service.profiler is not None:
        service.profiler.detach()
    stop.set()
    await sampler
    in_clear = clear_text_in_segments(kafka.data_dir)  # before the raw run, which writes plain payloads
    ceiling = await raw_ceiling(kafka, [d for _, d in documents])
    sized = Run(run.messages, len(documents[0][1]), run.clients, run.workers, run.rate, run.mix)
    Figures(sized, elapsed, service_cpu, ceiling, in_clear).print(t, rss)


async def bench(run: Run, profile: bool, work: Path) -> None:
    """Set everything up, measure, print; with `profile`, the service's top 15 functions after it stops."""
    key = local_keys(work)
    postgres = LocalPostgres(Path(tempfile.mkdtemp(prefix="silta-bench-pg-")), free_port())
    postgres.start()
    kafka = start_local_kafka(fetch_kafka_jars(PROJECT_ROOT / ".cache"), work / "kafka")
    service: Service | None = None
    try:
        env = await prepare(postgres, kafka, work)
        profiler = profiler_for(work) if profile else None
        service = start_service(env, work / "service.log", run.workers, profiler)
        token = mint_token(key, "kela", "silta-local", "silta")
        base_url = f"http://127.0.0.1:{env['SILTA_API_PORT']}"
        await wait_until_settled(service, base_url)
        await measure(run, service, kafka, work, base_url=base_url, token=token)
    finally:
        if service is not None:
            service.stop()
        kafka.stop()
        postgres.stop()
    if service is not None and service.profiler is not None:
        print_profile(service.profiler)


def print_profile(profiler: Profiler) -> None:
    """The top 15 functions, and where the whole profile is kept (for a flame graph)."""
    print(f"  profile of the service ({profiler.kind}), own time, top 15:")
    for line in profiler.top(15):
        print(f"    {line}")
    if profiler.output.exists():
        kept = PROJECT_ROOT / ".silta" / f"bench-profile{profiler.output.suffix}"
        kept.parent.mkdir(exist_ok=True)
        shutil.copyfile(profiler.output, kept)
        print(f"  whole profile: {kept}")


def parse_arguments(argv: list[str] | None = None) -> tuple[Run, bool]:
    """The run's setup from the command line, and whether to profile."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.e2e", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", "-n", type=int, default=5000, help="transfers to post (default 5000)")
    parser.add_argument("--size", type=int, default=0, help="document bytes, padded with cost items (default: ~2 KB)")
    parser.add_argument(
        "--rate", type=float, default=None, help="paced messages/s (default: unpaced, as fast as it goes)"
    )
    parser.add_argument("--clients", "-c", type=int, default=64, help="concurrent REST clients (default 64)")
    parser.add_argument("--workers", "-w", type=int, default=1, help="`silta serve --workers N` (default 1)")
    parser.add_argument("--mix", type=float, default=0.0, help="share of transfers the organiser answers, 0-1")
    parser.add_argument("--profile", action="store_true", help="profile the service: py-spy, else cProfile")
    args = parser.parse_args(argv)
    if not 0 <= args.mix <= 1:
        parser.error("--mix is a share between 0 and 1")
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    return Run(args.messages, args.size, args.clients, args.workers, args.rate, args.mix), args.profile


def main() -> None:
    """Parse arguments and run the benchmark."""
    run, profile = parse_arguments()
    work = Path(tempfile.mkdtemp(prefix="silta-bench-"))
    try:
        asyncio.run(bench(run, profile, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
