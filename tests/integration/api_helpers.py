"""Waiting for a message's status through Kela's REST API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def wait_for_status(
    api: httpx.AsyncClient, token: str, message_id: str, status: str, timeout_s: float = 30
) -> dict[str, Any]:
    """Poll `GET /kela/v1/messages/{id}` until the message has `status`; its status document."""
    async with asyncio.timeout(timeout_s):
        while True:
            answer = await api.get(f"/kela/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token}"})
            body: dict[str, Any] = answer.json()
            if body.get("status") == status:
                return body
            await asyncio.sleep(0.1)
