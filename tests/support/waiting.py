"""Waiting on a condition instead of sleeping a fixed time.

A test that needs something to have happened polls for it, briefly, and
fails with a clear message when it does not happen in time; it never sleeps a
guessed number of seconds.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Predicate = Callable[[], bool | Awaitable[bool]]
"""A condition to wait for: a plain or async callable returning a truth value."""

DEFAULT_INTERVAL_S = 0.02


async def wait_until(
    predicate: Predicate, timeout_s: float = 10.0, *, interval_s: float = DEFAULT_INTERVAL_S, what: str = ""
) -> None:
    """Poll `predicate` until it is true; `AssertionError` naming `what` after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        outcome = predicate()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what or _name(predicate)}")
        await asyncio.sleep(interval_s)


def wait_until_sync(
    predicate: Callable[[], bool], timeout_s: float = 10.0, *, interval_s: float = DEFAULT_INTERVAL_S, what: str = ""
) -> None:
    """`wait_until` for code outside an event loop (a child process starting, say)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what or _name(predicate)}")
        time.sleep(interval_s)


def _name(predicate: Callable[[], object]) -> str:
    return getattr(predicate, "__qualname__", repr(predicate))
