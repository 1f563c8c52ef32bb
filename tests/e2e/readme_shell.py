r"""The README's shell blocks as a bash script, and the check of the outputs the README shows.

A README block is a ```` ```sh ```` fence. Inside it, a command starts at the
left margin; the lines after a trailing `\`, indented lines and a closing `}`
belong to it (a function's body). Each command may be followed by `# ` comment
lines: the output the README promises. A comment line indented by three or more
spaces after the `#` continues the line above it (long JSON). `…` stands for
anything; the order of the lines is free. A block whose previous non-blank line
starts with `<!-- not run` is skipped (`make run`, `make test`: the test starts
the service itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NOT_RUN = "<!-- not run"
_FENCE_OPEN = "```sh"
_FENCE_CLOSE = "```"
_MARKER = "@@readme-command-{}@@"
_MARKER_LINE = re.compile(r"^@@readme-command-(\d+)@@$")


@dataclass
class Command:
    """One README command: its text as written, where it starts, and the output lines shown after it."""

    text: str
    line: int
    expected: list[str] = field(default_factory=list)


def _fenced_blocks(markdown: str) -> list[tuple[int, list[str], bool]]:
    """Every ```sh block: (line number of its first line, its lines, whether it runs)."""
    blocks: list[tuple[int, list[str], bool]] = []
    lines = markdown.splitlines()
    previous, index = "", 0
    while index < len(lines):
        line = lines[index]
        if line.strip() == _FENCE_OPEN:
            end = lines.index(_FENCE_CLOSE, index + 1)
            blocks.append((index + 2, lines[index + 1 : end], not previous.startswith(NOT_RUN)))
            previous, index = _FENCE_CLOSE, end
        elif line.strip():
            previous = line.strip()
        index += 1
    return blocks


def skipped_lines(markdown: str) -> list[str]:
    """The non-blank lines of the blocks marked `<!-- not run`."""
    return [line for _, lines, runs in _fenced_blocks(markdown) if not runs for line in lines if line.strip()]


def _add_expected(commands: list[Command], comment: str) -> None:
    """A `# ` line after a command: a new expected line, or the continuation of the last one."""
    if not commands:
        return  # a comment before any command describes the block; it is no output
    text = comment[1:]
    expected = commands[-1].expected
    if text.startswith("   ") and expected:
        expected[-1] += text.strip()
    elif text.strip():
        expected.append(text.strip())


def _block_commands(first_line: int, lines: list[str]) -> list[Command]:
    """The commands of one block; `first_line` is the README line number of its first line."""
    commands: list[Command] = []
    continuing = False
    for offset, line in enumerate(lines):
        if commands and (continuing or (line[:1].isspace() and line.strip()) or line == "}"):
            commands[-1].text += "\n" + line
        elif line.startswith("#"):
            _add_expected(commands, line)
        elif line.strip():
            commands.append(Command(line, first_line + offset))
        continuing = line.rstrip().endswith("\\")
    return commands


def parse_commands(markdown: str) -> list[Command]:
    """The commands of every runnable shell block of `markdown`, in order, with their expected output."""
    blocks = _fenced_blocks(markdown)
    return [command for first, lines, runs in blocks if runs for command in _block_commands(first, lines)]


def bash_script(commands: list[Command], prelude: str) -> str:
    """`prelude`, then each command followed by a marker line that separates its output from the next one's."""
    parts = ["set -euo pipefail", prelude]
    for number, command in enumerate(commands):
        parts += [command.text, f"printf '\\n{_MARKER.format(number)}\\n'"]
    return "\n".join(parts) + "\n"


def split_outputs(stdout: str, count: int) -> list[list[str]]:
    """The non-blank output lines of each of `count` commands; commands that never ran get none."""
    outputs: list[list[str]] = [[] for _ in range(count)]
    current: list[str] = []
    for line in stdout.splitlines():
        marker = _MARKER_LINE.match(line.strip())
        if marker:
            outputs[int(marker.group(1))] = current
            current = []
        elif line.strip():
            current.append(line.strip())
    return outputs


def finished(stdout: str) -> int:
    """How many commands ran to the end (the number of markers printed)."""
    return sum(1 for line in stdout.splitlines() if _MARKER_LINE.match(line.strip()))


def pattern(expected: str) -> re.Pattern[str]:
    """The regular expression of an expected line: literal text, `…` for anything, any run of blanks for blanks."""
    parts = re.split(r"(…|\s+)", expected)
    regex = "".join(".*?" if part == "…" else r"\s+" if part.isspace() else re.escape(part) for part in parts)
    return re.compile(regex)


def mismatch(command: Command, output: list[str]) -> str | None:
    """None if each expected line matches a whole output line of its own; else what is missing and what came.

    The order is free: records from different Kafka partitions reach a listener in any order.
    """
    unused = list(output)
    for expected in command.expected:
        wanted = pattern(expected)
        match = next((line for line in unused if wanted.fullmatch(line)), None)
        if match is None:
            shown = "\n".join(output) or "(nothing)"
            return f"README.md:{command.line}: `{command.text}`\nexpected: {expected}\nbut printed:\n{shown}"
        unused.remove(match)
    return None
