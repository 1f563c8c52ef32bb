"""Every shell block of README.md, run in order with bash against the service as `make run` starts it.

The README's own `make run` (and `make test`) blocks are marked `<!-- not run -->`:
the fixture stands in for `make run` with the same defaults (SQLite, an empty
local Kafka, the development keys), only on free ports and with its files in a
temporary folder. The blocks run verbatim from the project root; `curl` is
wrapped to reach the test's port instead of 8080 and to fail on an HTTP error.
Each output the README shows in `# ` lines must match what really comes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.settings import PROJECT_ROOT, Settings
from devinfra.kafka import LocalKafka
from devinfra.segments import clear_text_in_segments
from entrypoints.cli import ensure_local_keys, prepare_local_store
from tests.e2e.conftest import ServiceProcess, make_run_env
from tests.e2e.readme_shell import (
    Command,
    bash_script,
    finished,
    mismatch,
    parse_commands,
    skipped_lines,
    split_outputs,
)

README = PROJECT_ROOT / "README.md"
PRELUDE = 'curl() { command curl --fail-with-body "${@//127.0.0.1:8080/127.0.0.1:$SILTA_API_PORT}"; }'
TIMEOUT_S = 180  # the blocks take 25 s on a quiet machine, 100 s on a busy one


@pytest.fixture
def readme_service(own_kafka: LocalKafka, tmp_path: Path) -> Iterator[ServiceProcess]:
    """What `make run` starts: the local keys, an empty Kafka and the service on SQLite; stopped after the test."""
    assert shutil.which("curl"), "the README's blocks need curl (.ci/run installs it)"
    env = make_run_env(own_kafka, tmp_path)
    settings = Settings(
        database_url=env["SILTA_DATABASE_URL"],
        dev_signing_key_file=Path(env["SILTA_DEV_SIGNING_KEY_FILE"]),
        auth_jwks_file=Path(env["SILTA_AUTH_JWKS_FILE"]),
        pseudonym_key_file=Path(env["SILTA_PSEUDONYM_KEY_FILE"]),
        console_session_key_file=Path(env["SILTA_CONSOLE_SESSION_KEY_FILE"]),
        key_dir=Path(env["SILTA_KEY_DIR"]),
        party_keys_dir=Path(env["SILTA_PARTY_KEYS_DIR"]),
    )
    ensure_local_keys(settings)  # as `make run` does before it serves
    asyncio.run(prepare_local_store(settings))
    service = ServiceProcess(env, tmp_path / "service.log")
    service.start()
    yield service
    service.stop()


def _run_bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `script` with bash from the project root; on timeout end it and everything it started."""
    with subprocess.Popen(
        ["bash", "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as bash:
        try:
            stdout, stderr = bash.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(bash.pid, signal.SIGKILL)
            stdout, stderr = bash.communicate()
        return subprocess.CompletedProcess(bash.args, bash.returncode, stdout, stderr)


def _failure(commands: list[Command], result: subprocess.CompletedProcess[str], log: Path) -> str:
    """Which README command stopped the script, with what it and the service said."""
    done = finished(result.stdout)
    where = f"README.md:{commands[done].line}: `{commands[done].text}`" if done < len(commands) else "after the end"
    service_log = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    return (
        f"exit {result.returncode} at {where}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}\n"
        f"service log:\n{service_log}"
    )


def test_every_shell_block_of_the_readme_runs_and_prints_what_it_shows(
    readme_service: ServiceProcess, own_kafka: LocalKafka
) -> None:
    """The README's blocks, in order, run without error and print what their `# ` lines show.

    Afterwards the broker's data folder holds none of what went over it in clear: no identity code, no element.
    """
    commands = parse_commands(README.read_text())
    result = _run_bash(bash_script(commands, PRELUDE), readme_service.env)
    assert result.returncode == 0, _failure(commands, result, readme_service.log)
    assert finished(result.stdout) == len(commands)
    outputs = split_outputs(result.stdout, len(commands))
    problems = [problem for c, out in zip(commands, outputs, strict=True) if (problem := mismatch(c, out))]
    assert not problems, "\n\n".join(problems)
    assert clear_text_in_segments(own_kafka.data_dir) == []


def test_only_the_make_commands_are_left_out() -> None:
    """`<!-- not run -->` stays for `make run`/`make test`: every other README command runs in the test above."""
    skipped = skipped_lines(README.read_text())
    assert skipped, "the make run block is marked"
    assert all(line.startswith("make ") for line in skipped), skipped


SAMPLE = """\
<!-- not run: started by the test -->
```sh
make run
```

```sh
A=$(echo one)   # an inline comment is no output
say() {  # a function's body belongs to it
  echo "$@"
}
say "$A" \\
  two
# one two
echo '{"a":1,"b":2}'
# {"a":1,
#    "b":…}
```
"""


def test_commands_continuations_and_expected_lines_are_read_and_not_run_blocks_skipped() -> None:
    r"""A marked block is skipped; `\` joins lines; `#` lines after a command are its output, indented ones join."""
    commands = parse_commands(SAMPLE)
    assert [c.text for c in commands] == [
        "A=$(echo one)   # an inline comment is no output",
        'say() {  # a function\'s body belongs to it\n  echo "$@"\n}',
        'say "$A" \\\n  two',
        """echo '{"a":1,"b":2}'""",
    ]
    assert [c.expected for c in commands] == [[], [], ["one two"], ['{"a":1,"b":…}']]
    assert commands[2].line == 11


def test_expected_lines_match_with_wildcards_each_once_and_a_difference_is_reported() -> None:
    """`…` matches anything, blanks match any blanks, in any order; a wrong value or a missing line fails."""
    sent = "sent information-request f6e2…\tsilta.from.hva-08.v1/1/0"
    command = Command("silta org send …", 1, [sent, "receipt …", "receipt …"])
    real = ["sent\tinformation-request\tf6e2a8e4\tsilta.from.hva-08.v1/1/0", "receipt\ta", "x", "receipt\tb"]
    assert mismatch(command, real) is None
    assert mismatch(command, real[::-1]) is None
    assert mismatch(command, [real[0].replace("/1/0", "/0/0"), *real[1:]]) is not None
    assert mismatch(command, real[:3]) is not None  # one receipt line cannot match twice
    assert mismatch(command, []) is not None


def test_the_script_runs_each_command_and_separates_their_outputs() -> None:
    """The generated script stops at the first failing command and its output splits per command."""
    commands = parse_commands(SAMPLE)
    ran = subprocess.run(["bash", "-c", bash_script(commands, "")], capture_output=True, text=True, check=True)
    assert split_outputs(ran.stdout, len(commands)) == [[], [], ["one two"], ['{"a":1,"b":2}']]
    failing = [Command("false", 1), Command("echo never", 2)]
    stopped = subprocess.run(["bash", "-c", bash_script(failing, "")], capture_output=True, text=True, check=False)
    assert stopped.returncode != 0
    assert finished(stopped.stdout) == 0
