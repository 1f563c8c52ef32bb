"""The service's resident memory over a run: sampled every few seconds, and its growth after warm-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass
class RssSeries:
    """Resident memory samples (seconds from the start, bytes) and the peak seen between them."""

    samples: list[tuple[float, int]] = field(default_factory=list)
    peak: int = 0

    def growth_after_warmup(self, warmup: float = 0.2) -> float:
        """Percent growth from the first sample after warm-up (the first `warmup` of the run) to the last."""
        return rss_growth([rss for _, rss in self.samples], warmup)

    def shown(self, at_most: int = 12) -> list[tuple[float, int]]:
        """At most `at_most` samples, evenly spread and always with the last one, to print as a short series."""
        return thinned(self.samples, at_most)


def rss_growth(values: list[int], warmup: float = 0.2) -> float:
    """Percent growth from the value just after the warm-up share of the series to its last value (nan if too short)."""
    if not 0 <= warmup < 1:
        raise ValueError("the warm-up is a share of the run, from 0 up to 1")
    start = int(len(values) * warmup)
    if len(values) - start < 2 or values[start] <= 0:
        return float("nan")
    return (values[-1] - values[start]) / values[start] * 100


def thinned(items: list[T], at_most: int) -> list[T]:
    """Up to `at_most` of `items`, evenly spaced, the first and the last among them."""
    if len(items) <= at_most:
        return list(items)
    step = (len(items) - 1) / (at_most - 1)
    return [items[round(i * step)] for i in range(at_most)]


async def sample_rss(measure: Callable[[], int], series: RssSeries, stop: asyncio.Event, every_s: float = 2.0) -> None:
    """Keep the peak (every 100 ms) and a sample every `every_s` seconds until `stop` is set, then a last one."""
    began = time.perf_counter()
    next_sample = began
    while True:
        rss = measure()
        series.peak = max(series.peak, rss)
        now = time.perf_counter()
        if now >= next_sample or stop.is_set():
            series.samples.append((now - began, rss))
            next_sample += every_s
        if stop.is_set():
            return
        await asyncio.sleep(0.1)
