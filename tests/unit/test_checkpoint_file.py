"""The checkpoint file: appends under an exclusive lock, whole lines only, a torn last line kept apart."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
from pathlib import Path

import pytest

from broker.audit import checkpoint_file
from broker.audit.checkpoint_file import LockedCheckpointFile, locked_round, numbered_lines


def _append(path: Path, lines: list[str]) -> int:
    locked = LockedCheckpointFile(path)
    try:
        return locked.append(lines)
    finally:
        locked.close()


def _append_many(path_text: str, writer: int) -> None:
    """A separate process appending 100 lines one round at a time, as another Silta instance would."""
    for n in range(100):
        _append(Path(path_text), [f'{{"writer":{writer},"n":{n}}}'])


def test_appends_are_whole_lines_in_a_new_folder(tmp_path: Path) -> None:
    """The first append creates the folder and the file; every line ends in a newline; the size is returned."""
    path = tmp_path / "audit" / "checkpoints.jsonl"
    size = _append(path, ["one", "two"])
    assert path.read_bytes() == b"one\ntwo\n"
    assert size == len(b"one\ntwo\n")
    assert list(numbered_lines(path)) == [(1, "one"), (2, "two")]


def test_the_lock_is_exclusive_while_held(tmp_path: Path) -> None:
    """While a writer holds the file, no other open file can take its lock (so two instances never interleave)."""
    path = tmp_path / "checkpoints.jsonl"
    locked = LockedCheckpointFile(path)
    try:
        with path.open("rb") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        locked.close()
    with path.open("rb") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_two_processes_appending_at_once_leave_only_whole_lines(tmp_path: Path) -> None:
    """Two writer processes, 100 appends each: 200 intact lines, each writer's in its own order."""
    path = tmp_path / "checkpoints.jsonl"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_append_many, args=(str(path), w)) for w in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    lines = [text for _, text in numbered_lines(path)]
    assert len(lines) == 200
    for w in (1, 2):
        assert [line for line in lines if f'"writer":{w},' in line] == [f'{{"writer":{w},"n":{n}}}' for n in range(100)]


def test_a_torn_last_line_stays_a_line_of_its_own(tmp_path: Path) -> None:
    """A write cut short by a crash is not glued to the next checkpoint: the next append starts a new line."""
    path = tmp_path / "checkpoints.jsonl"
    path.write_bytes(b"whole\n{half")
    _append(path, ["next"])
    assert [text for _, text in numbered_lines(path)] == ["whole", "{half", "next"]


def test_a_new_writer_reads_the_tail_then_only_what_others_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At first the last lines (the first, cut by the tail's edge, dropped); then from the offset on."""
    path = tmp_path / "checkpoints.jsonl"
    path.write_text("".join(f"line-{n:05d}\n" for n in range(20)))
    locked = LockedCheckpointFile(path)
    try:
        monkeypatch.setattr(checkpoint_file, "TAIL_BYTES", 25)
        tail, offset = locked.lines_after(None)
        assert tail == ["line-00018", "line-00019"]
        assert offset == path.stat().st_size
        with path.open("a") as other:
            other.write("line-00020\nline-000")
        assert locked.lines_after(offset)[0] == ["line-00020"]
    finally:
        locked.close()


def test_a_reader_leaves_out_what_is_appended_while_it_reads(tmp_path: Path) -> None:
    """The size is taken under the shared lock first; lines written after that wait for the next verify."""
    path = tmp_path / "checkpoints.jsonl"
    path.write_text("a\nb\n")
    lines = numbered_lines(path)
    assert next(lines) == (1, "a")
    with path.open("a") as other:
        other.write("c\n")
    assert list(lines) == [(2, "b")]
    assert os.path.getsize(path) == 6


def test_a_round_sees_the_new_lines_appends_its_own_and_always_lets_go(tmp_path: Path) -> None:
    """`locked_round` hands over only lines since the offset, appends what it is given, and unlocks even on error."""
    path = tmp_path / "checkpoints.jsonl"
    seen: list[list[str]] = []

    def decide(lines: list[str]) -> list[str]:
        seen.append(lines)
        return ["mine"]

    offset = locked_round(path, None, decide)
    with path.open("a") as other:
        other.write("theirs\n")
    assert locked_round(path, offset, decide) == path.stat().st_size
    assert seen == [[], ["theirs"]]

    def fail(_lines: list[str]) -> list[str]:
        raise RuntimeError("decide failed")

    with pytest.raises(RuntimeError):
        locked_round(path, None, fail)
    with path.open("rb") as unlocked:
        fcntl.flock(unlocked.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert path.read_text() == "mine\ntheirs\nmine\n"
