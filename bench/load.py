"""The load: Kela's clients post transfers over REST; the organiser consumes them and answers some over Kafka."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from adapters.municipality.client import InvalidRecord, OrganiserClient
from adapters.municipality.keys import OrganiserKeys, SiltaKeys, SiltaKeySource
from adapters.municipality.messages import SiltaMessage
from adapters.municipality.sender import OrganiserSender
from bench.figures import Timings
from bench.workload import ORGANISER, transfer_return
from broker.crypto.keyring import KeyRing
from devinfra.kafka import LocalKafka

ANSWER_SENDERS = 8
"""Concurrent sends of the organiser's case system (one producer)."""


async def post_all(
    base_url: str, token: str, documents: list[tuple[str, bytes]], *, schedule: list[float], clients: int, t: Timings
) -> float:
    """Post every document with `clients` concurrent clients, none before its time in `schedule`; elapsed seconds.

    Paced, the latency counts from the scheduled time, so a service that falls behind is not hidden by the
    clients waiting for it. The load generator uses aiohttp: on this machine httpx's client tops out near
    150 requests/s at this concurrency and would measure itself.
    """
    queue: asyncio.Queue[tuple[float, str, bytes]] = asyncio.Queue()
    for due, (message_id, body) in zip(schedule, documents, strict=True):
        queue.put_nowait((due, message_id, body))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    began = time.perf_counter()

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            due, message_id, body = queue.get_nowait()
            await asyncio.sleep(max(0.0, began + due - time.perf_counter()))
            started = max(began + due, time.perf_counter())
            async with session.post("/kela/v1/messages", data=body, headers=headers) as answer:
                text = await answer.text()
            done = time.perf_counter()
            if answer.status != 202:
                raise RuntimeError(f"unexpected {answer.status}: {text[:200]}")
            t.accept_latency.append(done - started)
            t.accepted_at[message_id] = done

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
        return time.perf_counter() - began


@dataclass
class Expected:
    """What the organiser still waits for: transfers, and receipts of its answers; which transfers it answers."""

    transfers: set[str]
    to_answer: set[str]
    receipts: int = 0

    def done(self) -> bool:
        """Every transfer arrived and every answer has its receipt."""
        return not self.transfers and not self.to_answer and self.receipts == 0


async def organiser(kafka: LocalKafka, work: Path, expected: Expected, t: Timings) -> None:
    """Consume as the organiser until every transfer and receipt arrived, answering the chosen transfers."""
    silta = SiltaKeySource.fixed(SiltaKeys.from_jwks(KeyRing.load(work / "keys").jwks()))
    keys = OrganiserKeys.load(work / "party-keys", ORGANISER)
    answers: asyncio.Queue[str] = asyncio.Queue()
    async with OrganiserSender(ORGANISER, kafka.connection(ORGANISER), keys, silta) as sender:
        senders = [asyncio.create_task(_answer(sender, answers, t)) for _ in range(ANSWER_SENDERS)]
        consumer = asyncio.create_task(_consume(kafka, keys=keys, silta=silta, expected=expected, answers=answers, t=t))
        try:
            done, _ = await asyncio.wait([consumer, *senders], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a sender's failure ends the run here instead of leaving it waiting for receipts
        finally:
            for task in [consumer, *senders]:
                task.cancel()


async def _consume(
    kafka: LocalKafka,
    *,
    keys: OrganiserKeys,
    silta: SiltaKeySource,
    expected: Expected,
    answers: asyncio.Queue[str],
    t: Timings,
) -> None:
    group = f"{ORGANISER}.bench-{uuid.uuid4().hex}"
    connection = kafka.connection(ORGANISER)
    async with OrganiserClient(ORGANISER, connection, keys, silta, group_id=group, commit_every=200) as client:
        async for delivery in client.deliveries():
            now, message = time.perf_counter(), delivery.message
            if isinstance(message, InvalidRecord):
                raise RuntimeError(f"the organiser could not open a record: {message.rejection.code}")
            message_id = message.envelope.message_id
            if message_id in expected.transfers:
                expected.transfers.discard(message_id)
                t.consumed_at[message_id] = now
                if message_id in expected.to_answer:
                    expected.to_answer.discard(message_id)
                    expected.receipts += 1
                    answers.put_nowait(message_id)
            elif isinstance(message, SiltaMessage) and message.message_type == "receipt":
                _receipted(message, now, expected, t)
            await client.ack(delivery)
            if expected.done():
                return


def _receipted(receipt: SiltaMessage, now: float, expected: Expected, t: Timings) -> None:
    answer_id = receipt.envelope.correlation_id
    if answer_id not in t.answer_sent_at or answer_id in t.receipted_at:
        return
    t.receipted_at[answer_id] = now
    expected.receipts -= 1
    if receipt.text("Outcome") != "accepted":
        t.answers_refused.append(f"{receipt.text('Errors/Error/Code')}: {receipt.text('Errors/Error/Reason')}")


async def _answer(sender: OrganiserSender, answers: asyncio.Queue[str], t: Timings) -> None:
    """Send a transfer return for each transfer put on the queue, as the organiser's case system would."""
    while True:
        transfer_id = await answers.get()
        document = transfer_return(transfer_id)
        described = sender.check(document)
        t.answer_sent_at[described.message_id] = time.perf_counter()  # before the send: a receipt may win the race
        await sender.send_unchecked(document, described)
