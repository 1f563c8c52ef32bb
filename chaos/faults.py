"""Faults on a seeded random schedule, each fired once the workload has sent a given number of messages.

The plan (which kinds, how many, at which message, on which target) comes from
`random.Random(seed)` alone. The injector fires one fault at a time and
recovers from it (restart, resume, heal) before the next; the workload's
workers wait at the gate only when the next fault is due and not yet fired,
so every fault meets traffic.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from chaos.fleet import long_outage_s
from chaos.instances import ServiceInstance
from chaos.proxy import ProxyGroup, TcpProxy
from chaos.stage import Stage

DEFAULT_MESSAGES = 100_000
DEFAULT_COUNTS = {
    "service-kill": 12,
    "broker-restart": 4,
    "broker-outage": 1,
    "postgres-fast": 2,
    "postgres-immediate": 2,
    "sigstop": 2,
    "network-cut": 2,
    "latency": 2,
}
"""How many of each kind the default run (100,000 messages) injects; smaller runs scale down, never below one."""
BUSY_TOPIC = "silta.to.hva-08.v1"
log = logging.getLogger("chaos.faults")


@dataclass(frozen=True)
class Fault:
    """One planned fault: its kind, the message count it fires at, and a draw that picks its target."""

    kind: str
    at: int
    pick: float


def fault_counts(messages: int) -> dict[str, int]:
    """The default counts scaled to `messages`, at least one of each kind."""
    scale = messages / DEFAULT_MESSAGES
    return {kind: max(1, round(count * scale)) for kind, count in DEFAULT_COUNTS.items()}


def counts_from_setting(setting: str, messages: int) -> dict[str, int]:
    """CHAOS_FAULTS (`kind[:count],…`, or `none`) as counts; empty: every kind at its scaled count."""
    scaled = fault_counts(messages)
    if not setting.strip():
        return scaled
    counts: dict[str, int] = {}
    for part in (p.strip() for p in setting.split(",") if p.strip() and p.strip() != "none"):
        kind, _, count = part.partition(":")
        if kind not in scaled:
            raise ValueError(f"CHAOS_FAULTS: {kind!r} is not a fault kind ({', '.join(scaled)})")
        counts[kind] = int(count) if count else scaled[kind]
    return counts


def plan_faults(rng: random.Random, messages: int, counts: dict[str, int] | None = None) -> list[Fault]:
    """Every fault of the run, in firing order, spread over 5–85 % of the messages."""
    counts = fault_counts(messages) if counts is None else counts
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    rng.shuffle(kinds)
    points = sorted(rng.randint(messages // 20, max(messages // 20, messages * 85 // 100)) for _ in kinds)
    return [Fault(kind, at, rng.random()) for kind, at in zip(kinds, points, strict=True)]


@dataclass
class Injected:
    """A fault as it happened."""

    fault: Fault
    target: str
    seconds: float


@dataclass
class Injector:
    """Fires the plan's faults on the stage as the workload's count passes them."""

    stage: Stage
    plan: list[Fault]
    progress: Callable[[], int]
    proxy: TcpProxy | ProxyGroup | None
    proxied: ServiceInstance | None
    injected: list[Injected] = field(default_factory=list)
    skipped: list[Fault] = field(default_factory=list)
    _next: int = 0

    def due(self, sent: int) -> bool:
        """True while the next fault is due at `sent` messages and has not fired yet."""
        return self._next < len(self.plan) and self.plan[self._next].at <= sent

    async def gate(self, sent: int) -> None:
        """Wait (for a worker about to start a case) until every fault due by now has fired."""
        while self.due(sent):  # noqa: ASYNC110  a count, not an event: polled
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        """Fire every fault in turn, each once the workload has reached its point."""
        while self._next < len(self.plan):
            fault = self.plan[self._next]
            while self.progress() < fault.at:  # noqa: ASYNC110  a count, not an event: polled
                await asyncio.sleep(0.05)
            self._next += 1
            started = time.monotonic()
            target = await self._fire(fault)
            if target is None:
                self.skipped.append(fault)
                continue
            self.injected.append(Injected(fault, target, time.monotonic() - started))
            log.warning(
                "fault %s on %s at message %d: %.1f s", fault.kind, target, fault.at, time.monotonic() - started
            )

    def counts(self) -> Counter[str]:
        """Faults injected, by kind."""
        return Counter(i.fault.kind for i in self.injected)

    async def _fire(self, fault: Fault) -> str | None:
        handlers = {
            "service-kill": self._kill_instance,
            "broker-restart": self._restart_broker,
            "broker-outage": self._broker_outage,
            "postgres-fast": self._restart_postgres,
            "postgres-immediate": self._restart_postgres,
            "sigstop": self._pause,
            "network-cut": self._cut,
            "latency": self._slow,
        }
        return await handlers[fault.kind](fault)

    def _instance(self, fault: Fault) -> ServiceInstance:
        instances = self.stage.instances
        return instances[int(fault.pick * len(instances))]

    async def _kill_instance(self, fault: Fault) -> str:
        instance = self._instance(fault)
        await instance.kill()
        await asyncio.sleep(0.5 + 2 * fault.pick)
        await instance.start()
        return instance.name

    async def _restart_broker(self, fault: Fault) -> str:
        nodes = self.stage.fleet.nodes
        first = not any(i.fault.kind == "broker-restart" for i in self.injected)
        if first:  # the leader of a busy partition, once
            leader = await self.stage.fleet.leader_of(BUSY_TOPIC, 0)
            node = next(n for n in nodes if n.node_id == leader)
        else:
            node = nodes[int(fault.pick * len(nodes))]
        await node.restart()
        return f"broker {node.node_id}" + (f" (leader of {BUSY_TOPIC}/0)" if first else "")

    async def _broker_outage(self, fault: Fault) -> str:
        nodes = self.stage.fleet.nodes
        node = nodes[int(fault.pick * len(nodes))]
        down_s = long_outage_s(self.stage.fleet)
        await node.stop()
        await asyncio.sleep(down_s)
        await node.restart()
        return f"broker {node.node_id} down {down_s:.0f} s"

    async def _restart_postgres(self, fault: Fault) -> str:
        mode = fault.kind.removeprefix("postgres-")
        await asyncio.to_thread(self.stage.postgres.restart, mode)
        return f"postgresql ({mode})"

    async def _pause(self, fault: Fault) -> str:
        candidates: list[tuple[str, ServiceInstance | None, int]] = [(i.name, i, 0) for i in self.stage.instances]
        candidates += [(f"broker {n.node_id}", None, k) for k, n in enumerate(self.stage.fleet.nodes)]
        name, instance, node_index = candidates[int(fault.pick * len(candidates))]
        node = self.stage.fleet.nodes[node_index]
        await (instance.pause() if instance else node.pause())
        await asyncio.sleep(10)
        await (instance.resume() if instance else node.resume())
        return name

    async def _cut(self, _fault: Fault) -> str | None:
        if self.proxy is None or self.proxied is None:
            return None
        await self.proxy.cut()
        await asyncio.sleep(8)
        self.proxy.heal()
        return f"{self.proxied.name} ↔ broker"

    async def _slow(self, _fault: Fault) -> str | None:
        if self.proxy is None or self.proxied is None:
            return None
        self.proxy.latency_s = 0.3
        await asyncio.sleep(10)
        self.proxy.latency_s = 0.0
        return f"{self.proxied.name} ↔ broker (+300 ms)"
