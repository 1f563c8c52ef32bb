"""What a bench run measured, printed under the names the notes and issues use."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass, field

from bench.rss import RssSeries


@dataclass
class Timings:
    """When each message was sent, accepted and consumed; clocks from `time.perf_counter`."""

    accepted_at: dict[str, float] = field(default_factory=dict)
    consumed_at: dict[str, float] = field(default_factory=dict)
    accept_latency: list[float] = field(default_factory=list)
    answer_sent_at: dict[str, float] = field(default_factory=dict)
    receipted_at: dict[str, float] = field(default_factory=dict)
    answers_refused: list[str] = field(default_factory=list)

    @property
    def consume_latency(self) -> list[float]:
        """From the 202 answer to the organiser client's delivery, per message."""
        return latencies(self.accepted_at, self.consumed_at)

    @property
    def answer_latency(self) -> list[float]:
        """From the organiser sending an answer to Silta's technical receipt for it reaching the organiser."""
        return latencies(self.answer_sent_at, self.receipted_at)


def latencies(started: dict[str, float], finished: dict[str, float]) -> list[float]:
    """Seconds from start to finish for every id in both."""
    return [max(0.0, done - started[m]) for m, done in finished.items() if m in started]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (1-99) of seconds, in milliseconds; nan without values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


@dataclass(frozen=True)
class Run:
    """How the run was set up."""

    messages: int
    size: int
    clients: int
    workers: int
    rate: float | None
    mix: float


@dataclass(frozen=True)
class Figures:
    """The run's totals; `print` writes them with the latencies and memory, one per line."""

    run: Run
    elapsed: float
    service_cpu: float
    ceiling: float
    in_clear: list[str]

    def print(self, t: Timings, rss: RssSeries) -> None:
        """The figures, one per line."""
        r = self.run
        pacing = f"paced at {r.rate:g}/s" if r.rate else "unpaced"
        print(
            f"silta end-to-end benchmark: {r.messages} transfers of {r.size} bytes, {r.clients} concurrent"
            f" clients, {r.workers} service worker(s), {pacing}, organisers answer {r.mix:.0%}"
        )
        rate = r.messages / self.elapsed
        accept, consume = t.accept_latency, t.consume_latency
        print(f"  accepted messages/s         {rate:10.0f}")
        print(f"  accept latency p50 / p99    {percentile(accept, 50):8.1f} / {percentile(accept, 99):.1f} ms")
        print(f"  accept→consume p50 / p99    {percentile(consume, 50):8.1f} / {percentile(consume, 99):.1f} ms")
        if r.mix:
            self._print_answers(t)
        print(f"  service CPU per message     {self.service_cpu / self._handled(t) * 1000:10.2f} ms")
        print(f"  raw aiokafka produce→consume{self.ceiling:10.0f} messages/s (ceiling)")
        print(f"  silta / raw                 {rate / self.ceiling:10.2f}")
        print_rss(rss)
        print(f"  found in clear on the broker{len(self.in_clear):10d} (identity codes or message elements)")
        for where in self.in_clear[:5]:
            print(f"    {where}")
        print(f"  machine: {os.cpu_count()} cores; PostgreSQL, Kafka, the service and this load generator share them")

    def _handled(self, t: Timings) -> int:
        """Messages the service handled: every transfer and every answer (its receipt is part of the answer)."""
        return self.run.messages + len(t.answer_sent_at)

    @staticmethod
    def _print_answers(t: Timings) -> None:
        answer = t.answer_latency
        print(f"  organiser answers sent      {len(t.answer_sent_at):10d} (transfer returns over Kafka)")
        print(f"  answer → receipt p50 / p99  {percentile(answer, 50):8.1f} / {percentile(answer, 99):.1f} ms")
        if t.answers_refused:
            print(f"  answers refused             {len(t.answers_refused):10d}: {t.answers_refused[0]}")


def print_rss(rss: RssSeries) -> None:
    """Peak RSS, a short series of samples, and the growth after warm-up."""
    print(f"  service peak RSS            {rss.peak / 2**20:10.0f} MiB")
    series = " ".join(f"{at:.0f}s:{value / 2**20:.0f}" for at, value in rss.shown())
    print(f"  service RSS over time (MiB) {series}")
    print(
        f"  RSS growth after warm-up    {rss.growth_after_warmup():10.1f} % (last sample against the first after 20 %)"
    )
