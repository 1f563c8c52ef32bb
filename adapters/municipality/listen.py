"""`silta org listen`: one line per arriving message, for demos and testers' eyes."""

from __future__ import annotations

from adapters.municipality.client import InvalidRecord, OrganiserClient
from adapters.municipality.contract import inbound_topic
from adapters.municipality.keys import OrganiserKeys, SiltaKeySource
from broker.kafka.connection import KafkaConnection


async def listen(
    org: str,
    connection: KafkaConnection,
    keys: OrganiserKeys,
    silta: SiltaKeySource,
    *,
    group: str | None,
    max_messages: int | None,
) -> int:
    """Print `type<TAB>message id<TAB>case id` per message and acknowledge it; returns the count.

    A record that does not verify, decrypt or validate shows as `invalid<TAB>message id<TAB>code`.
    """
    count = 0
    async with OrganiserClient(org, connection, keys, silta, group_id=group) as client:
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
