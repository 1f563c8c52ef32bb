"""`silta org listen`: one line per arriving message, for demos and testers' eyes."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.municipality.client import InvalidRecord, OrganiserClient
from adapters.municipality.contract import inbound_topic
from broker.kafka.connection import KafkaConnection


async def listen(
    org: str, connection: KafkaConnection, group: str | None, max_messages: int | None, verify_key: Path | None = None
) -> int:
    """Print `type<TAB>message id<TAB>case id` per message and acknowledge it; returns the count."""
    count = 0
    public_key = _public_key(verify_key) if verify_key is not None else None
    async with OrganiserClient(org, connection, group_id=group, verify_key=public_key) as client:
        print(f"listening on {inbound_topic(org)}", flush=True)
        async for delivery in client.deliveries():
            message = delivery.message
            if isinstance(message, InvalidRecord):
                print(f"invalid\t{message.message_id}\t{message.rejection.code}", flush=True)
            else:
                envelope = message.envelope
                print(f"{envelope.message_type}\t{envelope.message_id}\t{envelope.case_id}", flush=True)
            await client.ack(delivery)
            count += 1
            if max_messages is not None and count >= max_messages:
                break
    return count


def _public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key
