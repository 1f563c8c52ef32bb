"""A throwaway PostgreSQL server from Debian's `postgresql` package.

initdb into a temporary folder, pg_ctl start on a free port bound to
127.0.0.1, stop and remove on exit. PostgreSQL refuses to run as root, so
when the tests run as root the server runs as the `postgres` system user
that the Debian package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path
from types import TracebackType


class PostgresLaunchError(RuntimeError):
    """The PostgreSQL server could not be set up or started."""


def _bin_dir() -> Path:
    """Find the server binaries: pg_config's bindir, else Debian's layout."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if versions:
        return versions[0].parent
    raise PostgresLaunchError("PostgreSQL server binaries not found; install Debian's `postgresql`")


class LocalPostgres:
    """One PostgreSQL server with a trust-authenticated superuser `silta`."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self._bin = _bin_dir()
        self._as_user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_user is not None:
            command = ["runuser", "-u", self._as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def url(self, database: str = "silta", driver: str = "asyncpg") -> str:
        """A SQLAlchemy URL for a database on this server."""
        return f"postgresql+{driver}://silta@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb, start the server and create the `silta` database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_user is not None:
            entry = pwd.getpwnam(self._as_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        pgdata = str(self.data_dir / "pgdata")
        self._check(
            self._run(
                str(self._bin / "initdb"), "-D", pgdata, "-U", "silta", "--auth=trust", "--encoding=UTF8", "--no-sync"
            ),
            "initdb",
        )
        self._start_server()
        self._check(
            self._run(str(self._bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "silta", "silta"),
            "createdb",
        )

    def _start_server(self) -> None:
        """pg_ctl start on the initialised folder, and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} -c fsync=off"
        self._check(
            self._run(
                str(self._bin / "pg_ctl"),
                "-D",
                str(self.data_dir / "pgdata"),
                "-o",
                options,
                "-w",
                "-l",
                str(self.data_dir / "postgres.log"),
                "start",
            ),
            "pg_ctl start",
        )

    def restart(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: end sessions, checkpoint; `immediate`: no checkpoint, crash recovery), start it."""
        self._check(
            self._run(str(self._bin / "pg_ctl"), "-D", str(self.data_dir / "pgdata"), "-m", mode, "-w", "stop"),
            f"pg_ctl stop -m {mode}",
        )
        self._start_server()

    def create_database(self, name: str) -> str:
        """Create another database on this server and return its URL."""
        self._check(
            self._run(str(self._bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "silta", name),
            "createdb",
        )
        return self.url(name)

    def stop(self) -> None:
        """Stop the server fast and remove its folder."""
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data_dir / "pgdata"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @staticmethod
    def _check(result: subprocess.CompletedProcess[str], step: str) -> None:
        if result.returncode != 0:
            raise PostgresLaunchError(f"{step} failed:\n{result.stdout}{result.stderr}")

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
