"""The mixed both-ways workload: cases of several kinds, run by a few concurrent workers until N messages.

Each case is one story about one case id:
- transfer: Kela transfers an application, then sends a late attachment; the
  organiser answers the transfer with a status update;
- request: Kela asks the organiser for further information; it responds;
- notices: the organiser sends a decision notice, then a status update; Kela
  receipts each in its inbox (a business receipt back to the organiser);
- guardian: Kela asks the client for an attachment; the client's guardian
  answers with an upload, which goes to Kela and the organiser.
Which kind, and for which organiser, comes from the seeded random generator.
Before each case a worker passes the fault gate, so every fault of the plan
fires while traffic still flows.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chaos import documents as docs
from chaos.guardian import GuardianPortal
from chaos.kela import Kela
from chaos.ledger import Expected, Ledger
from chaos.organisers import CaseSystem

KINDS = ("transfer", "request", "notices", "guardian")
WEIGHTS = (35, 25, 34, 6)


@dataclass
class Workload:
    """The parties of the workload and where it stands."""

    kela: Kela
    guardian: GuardianPortal
    case_systems: dict[str, CaseSystem]
    ledger: Ledger
    messages: int
    rng: random.Random
    gate: Callable[[int], Awaitable[None]]

    async def run(self, workers: int = 6) -> None:
        """Run cases with `workers` concurrent workers until the ledger holds `messages` sent messages."""
        plan = self._plan()
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        for case in plan:
            queue.put_nowait(case)
        await asyncio.gather(*(self._worker(queue) for _ in range(workers)))

    def _plan(self) -> list[tuple[str, str]]:
        """Kinds and organisers, drawn up front (so one seed gives one plan); at least one guardian case."""
        per_case = 3.2  # messages a case makes on average, answers and receipts included
        count = max(4, round(self.messages / per_case))
        plan = [(self.rng.choices(KINDS, WEIGHTS)[0], self.rng.choice(sorted(docs.HOME_OF))) for _ in range(count)]
        plan[min(2, count - 1)] = ("guardian", "hva-08")
        return plan

    async def _worker(self, queue: asyncio.Queue[tuple[str, str]]) -> None:
        while not queue.empty() and len(self.ledger.planned) < self.messages:
            kind, org = queue.get_nowait()
            await self.gate(len(self.ledger.planned))
            await self._case(kind, org)

    async def _case(self, kind: str, org: str) -> None:
        case_id = docs.new_case()
        if kind == "transfer":
            await self._transfer(case_id, org)
        elif kind == "request":
            await self._kela_sends(docs.information_request, "information-request", case_id, org, 1)
        elif kind == "notices":
            await self._notices(case_id, org)
        else:
            await self._guardian(case_id)

    async def _kela_sends(
        self, build: Callable[[str, str, str], bytes], message_type: str, case_id: str, org: str, step: int
    ) -> bool:
        message_id = docs.new_id()
        expected = Expected(message_id, message_type, "kela", org, case_id, step)
        return await self.kela.send(build(message_id, case_id, org), expected)

    async def _transfer(self, case_id: str, org: str) -> None:
        if await self._kela_sends(docs.transfer, "application-transfer", case_id, org, 1):
            await self._kela_sends(docs.late_attachment, "late-attachment", case_id, org, 2)

    async def _notices(self, case_id: str, org: str) -> None:
        system = self.case_systems[org]
        for step, message_type in enumerate(("decision-notice", "status-update"), start=1):
            message_id = docs.new_id()
            document = docs.from_organiser(message_type, org, message_id, case_id)
            await system.send(document, Expected(message_id, message_type, org, "kela", case_id, step))

    async def _guardian(self, case_id: str) -> None:
        request_id = docs.new_id()
        document = docs.information_request(request_id, case_id, "hva-08", to_client=True)
        self.ledger.record_sent(Expected(request_id, "information-request", "kela", "?", case_id, 1))
        answer = await self.kela.api.call(
            "POST", "/kela/v1/messages", self.kela.token, content=document, headers={"Content-Type": "application/xml"}
        )
        if answer.status_code != 202:
            self.ledger.rejected[request_id] = str(answer.status_code)
            return
        recipient = await self.kela.recipient_of(request_id)
        self.ledger.planned[request_id] = Expected(request_id, "information-request", "kela", recipient, case_id, 1)
        self.ledger.record_accepted(request_id)
        await self.guardian.answer(request_id, case_id)
