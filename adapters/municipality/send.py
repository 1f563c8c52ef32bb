"""`silta org send`: send XML files to Kela as an organiser, one line per file."""

from __future__ import annotations

from pathlib import Path

from adapters.municipality.keys import OrganiserKeys, SiltaKeySource
from adapters.municipality.sender import OrganiserSender
from broker.domain.errors import Rejection
from broker.kafka.connection import KafkaConnection


async def send_files(
    org: str, connection: KafkaConnection, keys: OrganiserKeys, silta: SiltaKeySource, files: list[Path]
) -> int:
    """Check and send each file; prints `sent<TAB>type<TAB>id<TAB>topic/partition/offset` or why not. Exit code."""
    failed = 0
    async with OrganiserSender(org, connection, keys, silta) as sender:
        for path in files:
            try:
                sent = await sender.send(path.read_bytes())
            except Rejection as rejection:
                failed += 1
                where = "; ".join(f"{e.path}: {e.reason}" for e in rejection.errors)
                print(f"refused\t{path}\t{rejection.code}\t{rejection.detail}\t{where}", flush=True)
                continue
            position = f"{sent.topic}/{sent.partition}/{sent.offset}"
            print(f"sent\t{sent.message_type}\t{sent.message_id}\t{position}", flush=True)
    return 1 if failed else 0
