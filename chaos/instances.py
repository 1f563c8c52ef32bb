"""Silta service instances as separate OS processes (`silta serve`), which the faults kill, pause and restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class InstanceStartError(RuntimeError):
    """A service instance did not come up."""


class ServiceInstance:
    """One `silta serve` process with its settings in the environment, logging to its own file."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.env = env
        self.log = log
        self.port = int(env["SILTA_API_PORT"])
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Where the instance's API answers."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    async def start(self, timeout_s: float = 90.0) -> None:
        """Start the process and wait until /health/live answers."""
        with open(self.log, "ab") as log:  # noqa: ASYNC230  opened once per start, handed to the child
            self._process = subprocess.Popen(  # noqa: ASYNC220  returns at once; the wait below is async
                [sys.executable, "-m", "entrypoints.cli", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        await self._wait_live(timeout_s)

    async def _wait_live(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise InstanceStartError(f"{self.name} exited with {self._process.returncode}; see {self.log}")
                try:
                    if (await client.get(f"{self.base_url}/health/live")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise InstanceStartError(f"{self.name} did not answer /health/live in {timeout_s:.0f} s; see {self.log}")

    def _signal(self, number: signal.Signals) -> None:
        pid = self.pid
        if pid is not None:
            os.killpg(pid, number)

    async def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, as in a crash."""
        self._signal(signal.SIGKILL)
        await self._reap()

    async def stop(self) -> None:
        """SIGTERM (after SIGCONT, should it be paused) and wait; SIGKILL if it does not end in 30 s."""
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        process = self._process
        if process is None:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), 30)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
        await self._reap()

    async def _reap(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await asyncio.to_thread(process.wait)

    async def pause(self) -> None:
        """SIGSTOP: the process holds its connections but answers nothing."""
        self._signal(signal.SIGSTOP)

    async def resume(self) -> None:
        """SIGCONT."""
        self._signal(signal.SIGCONT)
