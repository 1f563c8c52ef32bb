"""Reading what arrived on an organiser's topic, through the organiser client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.municipality.client import Delivery, InvalidRecord, OrganiserClient


async def collect(
    bootstrap: str,
    org: str,
    message_ids: set[str],
    *,
    timeout_s: float = 30.0,
    settle_s: float = 0.0,
    verify_key: Ed25519PublicKey | None = None,
    by: Callable[[Delivery], str | None] | None = None,
) -> list[Delivery]:
    """Deliveries of the given message ids on `silta.to.<org>.v1`, read with a fresh consumer group.

    Waits until each id has arrived at least once, then `settle_s` longer, so
    that a duplicate that would arrive late is caught too. `by` picks another
    id to match on, such as `correlation_id` for the receipts of sent messages.
    """
    key = by or _message_id
    found: list[Delivery] = []
    all_arrived = asyncio.Event()
    group = f"test-{uuid.uuid4().hex}"
    async with OrganiserClient(org, bootstrap, group_id=group, verify_key=verify_key) as client:

        async def read() -> None:
            async for delivery in client.deliveries():
                if key(delivery) in message_ids:
                    found.append(delivery)
                if {key(d) for d in found} == message_ids:
                    all_arrived.set()
                await client.ack(delivery)

        reader = asyncio.create_task(read())
        try:
            await asyncio.wait_for(all_arrived.wait(), timeout_s)
            await asyncio.sleep(settle_s)
        finally:
            reader.cancel()
            # bounded: a cancellation swallowed inside aiokafka must not hang the test; stopping
            # the consumer on the way out ends the reader anyway
            await asyncio.wait({reader}, timeout=10)
    return found


def delivered_ids(deliveries: list[Delivery]) -> list[str | None]:
    """The message ids of deliveries, in arrival order."""
    return [_message_id(d) for d in deliveries]


def _message_id(delivery: Delivery) -> str | None:
    message = delivery.message
    return message.message_id if isinstance(message, InvalidRecord) else message.envelope.message_id


def correlation_id(delivery: Delivery) -> str | None:
    """The id of the message a delivery answers or receipts (None for an invalid record)."""
    message = delivery.message
    return None if isinstance(message, InvalidRecord) else message.envelope.correlation_id
