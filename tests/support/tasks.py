"""Looking at what the app's background tasks are awaiting, to end an app at a safe moment."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import FrameType


def _await_chain(task: asyncio.Task[object]) -> Iterator[FrameType]:
    """The frames of every coroutine a task is suspended in, outermost first."""
    awaited: object = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            yield frame
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)


def kafka_client_bootstrapping() -> bool:
    """True while a task is inside an aiokafka client's bootstrap.

    Cancelled there (by an app stopping right after it started), aiokafka
    leaves the bootstrap connection open for the garbage collector, and the
    ResourceWarning then fails whichever test is running.
    """
    return any(
        frame.f_code.co_name == "bootstrap" and "aiokafka" in frame.f_code.co_filename
        for task in asyncio.all_tasks()
        if not task.done()
        for frame in _await_chain(task)
    )
