"""`silta serve` as a separate process for the bench, optionally under a profiler; its CPU and memory."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

from bench.profile import Profiler
from devinfra.ports import wait_for_port

QUIET_CPU_S = 0.15
"""CPU seconds in one second below which the service counts as idle (its relays and consumers only poll)."""


@dataclass
class Service:
    """The running service process (under cProfile, when that is the profiler) and its worker processes."""

    process: subprocess.Popen[bytes]
    pid: int
    profiler: Profiler | None

    def tree(self) -> list[psutil.Process]:
        """The service and its worker processes."""
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        """User and system CPU of the service and its worker processes."""
        return sum(p.cpu_times().user + p.cpu_times().system for p in self.tree())

    def rss(self) -> int:
        """Resident memory of the service and its worker processes, in bytes."""
        return sum(p.memory_info().rss for p in self.tree())

    def stop(self) -> None:
        """SIGTERM to the service (SIGINT under cProfile), and wait for all of it.

        uvicorn raises the signal again once it has shut down: SIGTERM's default action would end the
        process before cProfile writes, SIGINT's KeyboardInterrupt lets it.
        """
        stop = signal.SIGINT if self.profiler is not None and self.profiler.kind == "cProfile" else signal.SIGTERM
        with contextlib.suppress(psutil.NoSuchProcess):  # it ended already
            psutil.Process(self.pid).send_signal(stop)
        self.process.wait(60)


def start_service(env: dict[str, str], log: Path, workers: int, profiler: Profiler | None) -> Service:
    """`silta serve --workers N` as in production (under cProfile if that is the profiler)."""
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", str(workers)]
    if profiler is not None:
        command = profiler.command(command)
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603  our interpreter (or py-spy), our arguments
    if not wait_for_port(int(env["SILTA_API_PORT"]), 60):
        process.kill()
        raise RuntimeError(f"service did not start:\n{log.read_text()[-3000:]}")
    return Service(process, process.pid, profiler)


async def wait_until_settled(service: Service, base_url: str, timeout_s: float = 120) -> None:
    """Until the API answers and the service's CPU has quietened: its worker processes done starting.

    With several workers uvicorn's parent holds the port before the workers have imported anything,
    so an open port alone would start the clock on a service still booting.
    """
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(base_url) as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get("/.well-known/jwks.json") as answer:
                    if answer.status == 200:
                        break
            await asyncio.sleep(0.5)
    while time.monotonic() < deadline:
        before = service.cpu_seconds()
        await asyncio.sleep(1)
        if service.cpu_seconds() - before < QUIET_CPU_S:
            return
    print(f"  (the service was still busy {timeout_s:.0f} s after its start; measuring anyway)")
