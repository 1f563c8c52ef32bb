"""The service's profile in a bench run: py-spy (sampling every worker process while measured), else cProfile."""

from __future__ import annotations

import pstats
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r":\d+\)$")
_PROCESSES = re.compile(r'^(process \d+:"[^"]*";?)+')  # --subprocesses puts each process (its command line) first


@dataclass
class Profiler:
    """Profiles the service during the measured window (py-spy attaches then), or all its life (cProfile)."""

    kind: str
    """"py-spy" or "cProfile"."""
    output: Path
    _sampler: subprocess.Popen[bytes] | None = None

    def command(self, service: list[str]) -> list[str]:
        """The service command (`python -m …`), under cProfile if that is the profiler."""
        if self.kind == "py-spy":
            return service
        python, *arguments = service
        return [python, "-m", "cProfile", "-o", str(self.output), *arguments]

    def attach(self, pid: int) -> None:
        """py-spy: start sampling the service and its worker processes (100 Hz, without pausing them)."""
        if self.kind == "py-spy":
            spy = [_py_spy() or "py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "100"]
            command = [*spy, "--subprocesses", "--nonblocking", "-o", str(self.output)]
            self._sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603  py-spy beside our interpreter

    def detach(self) -> None:
        """py-spy: stop sampling; it writes its output then."""
        if self._sampler is not None:
            self._sampler.send_signal(signal.SIGINT)
            self._sampler.wait(60)
            self._sampler = None

    def top(self, count: int = 15) -> list[str]:
        """The top `count` functions by time spent in them (not in what they call), one line each."""
        if not self.output.exists():
            return [f"no profile written to {self.output}"]
        if self.kind == "py-spy":
            return top_sampled(self.output.read_text(), count)
        return _top_profiled(self.output, count)


def profiler_for(output_dir: Path) -> Profiler:
    """py-spy when installed (a dev package), else cProfile."""
    if _py_spy() is not None:
        return Profiler("py-spy", output_dir / "profile.txt")
    return Profiler("cProfile", output_dir / "profile.pstats")


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def top_sampled(collapsed: str, count: int) -> list[str]:
    """From py-spy's collapsed stacks (`frame;frame;… samples`): the leaf functions with the most samples."""
    own: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = _PROCESSES.sub("", stack)
        if not frames:  # a process's sample without Python frames (in native code)
            continue
        leaf = frames.rsplit(";", 1)[-1]
        own[_LINE.sub(")", leaf)] += int(samples)
    total = sum(own.values()) or 1
    return [f"{n / total * 100:5.1f} %  {frame}" for frame, n in own.most_common(count)]


def _top_profiled(path: Path, count: int) -> list[str]:
    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1  # type: ignore[attr-defined]  # pstats keeps its totals untyped
    rows = sorted(stats.stats.items(), key=lambda row: row[1][2], reverse=True)  # type: ignore[attr-defined]
    return [
        f"{tt / total * 100:5.1f} %  {name} ({'/'.join(Path(file).parts[-2:])}:{line})"
        for (file, line, name), (_, _, tt, _, _) in rows[:count]
    ]
