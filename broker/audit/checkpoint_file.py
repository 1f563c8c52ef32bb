"""The checkpoint file: JSON lines, only ever appended to, each append fsynced, under an exclusive lock.

The file is the anchor because it lives outside the database: whoever can
rewrite the database cannot thereby rewrite a copy an auditor keeps elsewhere.
A writer holds an exclusive `flock` while it reads what others appended and
appends its own lines (`locked_round`), so two Silta instances on one host
never interleave lines, and each appends only what is newer than what it just
read; readers take a shared one for a moment, so they never see half a line.
(`flock` is local to a host: on several hosts, give each its own file, or run
the job on one.)
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

TAIL_BYTES = 64 * 1024
"""How much of an existing file a new writer reads to learn the last checkpoint of each chain."""


class LockedCheckpointFile:
    """The file opened for appending, with the exclusive lock held until `close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._created = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self._fd)
            raise

    def lines_after(self, offset: int | None) -> tuple[list[str], int]:
        """Whole lines from byte `offset` to the end (None: from the last `TAIL_BYTES`), and the new offset."""
        size = os.fstat(self._fd).st_size
        start = max(0, size - TAIL_BYTES) if offset is None else min(offset, size)
        data = os.pread(self._fd, size - start, start)
        if offset is None and start > 0:
            data = data.partition(b"\n")[2]  # the first line of the tail may be cut
        complete, _, rest = data.rpartition(b"\n")
        end = size - len(rest)
        return [line for line in complete.decode("utf-8", "replace").split("\n") if line.strip()], end

    def append(self, lines: list[str]) -> int:
        """Append the lines (after a newline if the last write was cut short), fsync them; the new size."""
        size = os.fstat(self._fd).st_size
        if not lines:
            return size
        size = os.fstat(self._fd).st_size
        torn = size > 0 and os.pread(self._fd, 1, size - 1) != b"\n"
        data = ("\n" if torn else "") + "".join(f"{line}\n" for line in lines)
        view = memoryview(data.encode("utf-8"))
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)
        if self._created:
            _fsync_directory(self.path.parent)
            self._created = False
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        """Release the lock and the file."""
        os.close(self._fd)


def _fsync_directory(folder: Path) -> None:
    """Make a new file's name durable too, not only its contents."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Every non-blank line with its number (from 1), streamed; `FileNotFoundError` if the file is absent.

    The shared lock is held only while the size is read: no append is half-done
    then, and the bytes before that size never change, so the lines that start
    before it are read without holding up the writers; later ones are left out.
    """
    with path.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        size = os.fstat(handle.fileno()).st_size
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        start = 0
        for number, raw in enumerate(handle, start=1):
            if start >= size:
                return
            start += len(raw)
            if raw.strip():
                yield number, raw.decode("utf-8", "replace").rstrip("\n")


def locked_round(path: Path, offset: int | None, decide: Callable[[list[str]], list[str]]) -> int:
    """Under the exclusive lock: hand `decide` the lines appended since `offset`, append what it returns, fsync.

    Returns the offset to read from next time. Meant for a worker thread: it
    opens, locks and closes the file itself, so a caller that stops waiting
    (a cancelled task) can never leave the lock held or the file half-written.
    """
    locked = LockedCheckpointFile(path)
    try:
        lines, end = locked.lines_after(offset)
        new = decide(lines)
        return locked.append(new) if new else end
    finally:
        locked.close()
