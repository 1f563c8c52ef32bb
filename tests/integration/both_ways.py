"""Helpers for the both-ways flows: send as an organiser, read Kela's inbox, send as Kela."""

from __future__ import annotations

import httpx

from adapters.municipality.keys import SiltaKeySource
from adapters.municipality.sender import OrganiserSender, Outgoing, SentMessage
from devinfra.kafka import LocalKafka
from tests.conftest import party_keys, silta_keys


async def send_as_organiser(
    kafka: LocalKafka,
    document: bytes,
    org: str = "hva-08",
    *,
    check: bool = True,
    silta: SiltaKeySource | None = None,
) -> SentMessage:
    """Produce one document to `silta.from.<org>.v1` as the organiser's case system would: sealed for Silta."""
    async with OrganiserSender(org, kafka.connection(org), party_keys(org), silta or silta_keys()) as sender:
        if check:
            return await sender.send(document)
        return await sender.send_unchecked(document, Outgoing("unchecked", "unchecked", "unchecked-case"))


async def inbox_items(
    api: httpx.AsyncClient, token: str, wanted: set[str], timeout_s: float = 30
) -> list[dict[str, str]]:
    """Long-poll Kela's inbox until every wanted message id is listed; the matching items in inbox order."""
    found: dict[str, dict[str, str]] = {}
    cursor = "0"
    waited = 0.0
    while set(found) != wanted:
        answer = await api.get(
            "/kela/v1/inbox", params={"after": cursor, "wait": 2}, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found.update({item["message_id"]: item for item in page["items"] if item["message_id"] in wanted})
        cursor = page["next_cursor"]
        waited += 2 if not page["items"] else 0
        assert waited < timeout_s, f"not in the inbox after {timeout_s} s: {wanted - set(found)}"
    return sorted(found.values(), key=lambda item: int(item["cursor"]))


async def post_as_kela(api: httpx.AsyncClient, token: str, document: bytes) -> httpx.Response:
    """POST one XML message to Kela's REST API."""
    headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {token}"}
    return await api.post("/kela/v1/messages", headers=headers, content=document)
