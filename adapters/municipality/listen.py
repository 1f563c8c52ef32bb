"""`silta org listen`: one line per arriving message, for demos and testers' eyes."""

from __future__ import annotations

from adapters.municipality.client import Delivery, InvalidRecord, OrganiserClient
from adapters.municipality.contract import inbound_topic
from adapters.municipality.dedup import Outcome, ProcessedMessages, handle_once, record_only
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
    processed: ProcessedMessages | None = None,
) -> int:
    """Print `type<TAB>message id<TAB>case id` per message and acknowledge it; returns the count.

    A record that does not verify, decrypt or validate shows as `invalid<TAB>message id<TAB>code`.
    With a `processed` store, a message seen before shows as `duplicate<TAB>message id<TAB>case id`.
    """
    count = 0
    async with OrganiserClient(org, connection, keys, silta, group_id=group) as client:
        print(f"listening on {inbound_topic(org)}", flush=True)
        async for delivery in client.deliveries():
            if processed is None:
                await client.ack(delivery)
                duplicate = False
            else:
                duplicate = await handle_once(client, processed, delivery, record_only) is Outcome.DUPLICATE
            print(_line(delivery, duplicate=duplicate), flush=True)
            count += 1
            if max_messages is not None and count >= max_messages:
                break
    return count


def _line(delivery: Delivery, *, duplicate: bool) -> str:
    message = delivery.message
    if isinstance(message, InvalidRecord):
        return f"invalid\t{message.message_id}\t{message.rejection.code}"
    envelope = message.envelope
    kind = "duplicate" if duplicate else envelope.message_type
    return f"{kind}\t{envelope.message_id}\t{envelope.case_id}"
