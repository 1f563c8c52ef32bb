"""Progress on standard error for the long commands: a spinner while one unit of work runs.

Retention, a mandate import and the audit walk each run as one transaction
with no steps to count from outside, so they get a spinner naming the work
rather than a bar; a replay of many counts its records (`parked_commands`).
Standard output keeps the command's answer alone; a terminal-less run draws nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def working(what: str) -> Iterator[None]:
    """Show a spinner with `what` on standard error while the block runs."""
    from rich.console import Console  # noqa: PLC0415  loaded only by the commands that draw

    with Console(stderr=True).status(what):
        yield
