"""An organiser's case system uploads and fetches attachments over Silta's REST API (claim check)."""

from __future__ import annotations

from types import TracebackType

import httpx


class AttachmentClient:
    """Upload an attachment to reference it in a message; fetch one a received message references."""

    def __init__(
        self, base_url: str, token: str, *, timeout_s: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s, transport=transport
        )

    async def __aenter__(self) -> AttachmentClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def upload(self, content: bytes, media_type: str) -> str:
        """Store the content in Silta; returns the `attachment_id` to put in the manifest (its SHA-256)."""
        answer = await self._http.post("/attachments", content=content, headers={"Content-Type": media_type})
        answer.raise_for_status()
        attachment_id: str = answer.json()["attachment_id"]
        return attachment_id

    async def fetch(self, attachment_id: str) -> bytes:
        """The content of an attachment a message sent to (or by) this organiser references."""
        answer = await self._http.get(f"/attachments/{attachment_id}")
        answer.raise_for_status()
        return answer.content
