"""Kela's side of the workload: its REST calls, sent to either instance and retried until answered.

A call that gets no answer (connection refused, a timeout, a 5xx while
PostgreSQL or Kafka is down) is sent again, to the other instance first, with
the same message id, so a retry returns the first answer. The inbox reader
follows the cursor as a back-office system would and receipts every
organiser's message it takes in.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

import httpx

from chaos.ledger import Expected, Ledger
from devinfra.samples import EXAMPLE_ATTACHMENT

_RETRYABLE = frozenset({500, 502, 503, 504})
log = logging.getLogger("chaos.kela")


class NoAnswerError(RuntimeError):
    """No instance answered a call within the give-up time."""


class KelaApi:
    """HTTP calls to whichever instance answers, with the same request repeated until one does."""

    def __init__(self, base_urls: list[str], give_up_s: float = 300.0) -> None:
        self._urls = itertools.cycle(base_urls)
        self._give_up_s = give_up_s
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=3.0))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def call(self, method: str, path: str, token: str, **options: Any) -> httpx.Response:  # noqa: ANN401
        """The first answer that is not a transport failure or a 5xx; raises `NoAnswerError` after the give-up time."""
        deadline = time.monotonic() + self._give_up_s
        pause = 0.1
        headers = {"Authorization": f"Bearer {token}", **options.pop("headers", {})}
        while True:
            url = f"{next(self._urls)}{path}"
            try:
                answer = await self._client.request(method, url, headers=headers, **options)
                if answer.status_code not in _RETRYABLE:
                    return answer
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise NoAnswerError(f"{method} {path}: no answer in {self._give_up_s:.0f} s")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


class Kela:
    """Kela's back-office system: sends over REST, reads its inbox, receipts what it takes in."""

    def __init__(self, api: KelaApi, token: str, ledger: Ledger) -> None:
        self.api = api
        self.token = token
        self.ledger = ledger

    async def upload_example_attachment(self) -> None:
        """Hold the examples' PDF, which every late attachment's manifest names."""
        answer = await self.api.call(
            "POST",
            "/kela/v1/attachments",
            self.token,
            content=EXAMPLE_ATTACHMENT.read_bytes(),
            headers={"Content-Type": "application/pdf"},
        )
        answer.raise_for_status()

    async def send(self, document: bytes, expected: Expected) -> bool:
        """POST one message until answered; True on 202, else its refusal is recorded."""
        self.ledger.record_sent(expected)
        answer = await self.api.call(
            "POST", "/kela/v1/messages", self.token, content=document, headers={"Content-Type": "application/xml"}
        )
        if answer.status_code == 202:
            self.ledger.record_accepted(expected.message_id)
            return True
        self.ledger.rejected[expected.message_id] = _problem_code(answer)
        return False

    async def recipient_of(self, message_id: str) -> str:
        """Whom Silta routed a message Kela sent to (from its status)."""
        answer = await self.api.call("GET", f"/kela/v1/messages/{message_id}", self.token)
        answer.raise_for_status()
        return str(answer.json()["recipient"])

    async def read_inbox(self, stop: asyncio.Event) -> None:
        """Follow the inbox cursor until `stop`, taking each message in once and receipting organisers' ones."""
        cursor = "0"
        while not stop.is_set():
            answer = await self.api.call("GET", "/kela/v1/inbox", self.token, params={"after": cursor, "wait": 1})
            answer.raise_for_status()
            page = answer.json()
            for item in page["items"]:
                await self._take_in(item["message_id"], int(item["cursor"]))
            cursor = page["next_cursor"]

    async def _take_in(self, message_id: str, cursor: int) -> None:
        earlier = self.ledger.kela_saw_in_inbox.setdefault(message_id, cursor)
        if earlier != cursor:  # the same message listed at a second place: Kela would take it in twice
            self.ledger.seen[message_id] += 1
            return
        planned = self.ledger.planned.get(message_id)
        if not self.ledger.record_seen("kela", planned.case_id if planned else "?", message_id, f"inbox/{cursor}"):
            return
        if planned is not None and planned.sender.startswith("hva-"):
            await self._receipt(planned)

    async def _receipt(self, received: Expected) -> None:
        """Kela's business receipt for an organiser's message; it travels back to the organiser."""
        path = f"/kela/v1/inbox/{received.message_id}/receipt"
        answer = await self.api.call("POST", path, self.token, json={"case_reference": "CHAOS-KELA"})
        if answer.status_code != 200:
            self.ledger.rejected[f"receipt-of-{received.message_id}"] = _problem_code(answer)
            return
        receipt_id = answer.json()["receipt_id"]
        self.ledger.record_sent(Expected(receipt_id, "receipt", "kela", received.sender, received.case_id, 0))
        self.ledger.record_accepted(receipt_id)


def _problem_code(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("code", answer.status_code))
    except ValueError:
        return str(answer.status_code)
