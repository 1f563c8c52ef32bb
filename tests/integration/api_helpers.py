"""Waiting for a message's status through Kela's REST API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.waiting import wait_until


async def wait_for_status(
    api: httpx.AsyncClient, token: str, message_id: str, status: str, timeout_s: float = 30
) -> dict[str, Any]:
    """Poll `GET /kela/v1/messages/{id}` until the message has `status`; its status document."""
    body: dict[str, Any] = {}

    async def has_status() -> bool:
        nonlocal body
        answer = await api.get(f"/kela/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token}"})
        body = answer.json()
        return body.get("status") == status

    await wait_until(has_status, timeout_s, interval_s=0.05, what=f"message {message_id} {status}")
    return body
