"""`silta org listen`: one line per arriving message, for demos and testers' eyes."""

from __future__ import annotations

from adapters.municipality.client import InvalidRecord, OrganiserClient


async def listen(org: str, bootstrap_servers: str, group: str | None, max_messages: int | None) -> int:
    """Print `type<TAB>message id<TAB>case id` per message and acknowledge it; returns the count."""
    count = 0
    async with OrganiserClient(org, bootstrap_servers, group_id=group) as client:
        print(f"listening on silta.to.{org}.v1", flush=True)
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
