"""A private PostgreSQL cluster for the test session (Debian's binaries, see scripts/bootstrap.sh).

`PostgresServer.start()` runs initdb into a fresh folder in /dev/shm when that has room, else under
the system temp dir (owned by the `postgres` user when the tests run as root, started through `runuser`), starts the server on a free
port of 127.0.0.1 with its socket in that folder, and waits until it answers. `stop()` ends the
postmaster by its PID (fast shutdown, then immediate) and removes the folder.

The cluster is for tests only: trust authentication on 127.0.0.1, no fsync. Its time zone is not
UTC on purpose, so a timestamp that is not stored as an aware UTC value shows up as a wrong time.
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from fuzzydice.chain.devchain import free_port

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
SERVER_TIME_ZONE = "Pacific/Auckland"
SUPERUSER = "postgres"
FOLDER_PREFIX = "fuzzydice-pg-"
STALE_AFTER_S = 600
PR_SET_PDEATHSIG = 1
RAM_DIR = Path("/dev/shm")
RAM_DIR_MIN_FREE = 1 << 30
"""A cluster in RAM when it has this much room: on this disk each CREATE DATABASE took ~0.5 s, in RAM ~25 ms."""


class PostgresUnavailable(RuntimeError):
    """The test cluster could not be created or started."""


def find_bin_dir() -> Path:
    """The newest Debian PostgreSQL bin folder holding initdb and postgres."""
    candidates = [Path(p) for p in glob.glob(PG_BIN_GLOB) if (Path(p) / "initdb").exists() and (Path(p) / "postgres").exists()]
    if not candidates:
        raise PostgresUnavailable(
            f"no PostgreSQL binaries under {PG_BIN_GLOB}: run `scripts/bootstrap.sh --browser` "
            "(it installs Debian's postgresql), or deselect with -k 'not postgresql'"
        )
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def _cluster_parent() -> str | None:
    """Where the cluster's folder goes: /dev/shm with room to spare, else the system temp dir (None)."""
    try:
        stat = os.statvfs(RAM_DIR)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= RAM_DIR_MIN_FREE
    return str(RAM_DIR) if roomy and os.access(RAM_DIR, os.W_OK | os.X_OK) else None


def remove_stale_clusters(parent: str | None) -> None:
    """Remove the folders of clusters whose session was killed (no live postmaster, older than 10 minutes)."""
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime < STALE_AFTER_S:
                continue
            pid = int((folder / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except PermissionError:
            continue  # running as another user: alive
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to send SIGTERM to `runuser` (which passes it on) when the test process dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class PostgresServer:
    """One private cluster: its folder, port and postmaster process."""

    bin_dir: Path = field(default_factory=find_bin_dir)
    folder: Path | None = None
    port: int = 0
    process: subprocess.Popen | None = None
    pid: int | None = None
    _admin: psycopg.Connection | None = None
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def as_postgres(self) -> list[str]:
        """The prefix that runs a command as the `postgres` user (root may not run the server)."""
        return ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        assert self.folder is not None
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) of `database` on this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        """An autocommit psycopg connection (CREATE/DROP DATABASE cannot run in a transaction)."""
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True, connect_timeout=5
        )

    def create_database(self, template: str = "template0") -> str:
        """Create a new database from `template` (which must have no open connection); returns its name.

        FILE_COPY copies the template's files (tens of ms for the small test databases); PostgreSQL 15's
        default, WAL_LOG, writes every page of them to the write-ahead log instead.
        """
        if self._admin is None:
            self._admin = self.connect()
        name = f"fd_test_{next(self._names)}"
        strategy = " STRATEGY FILE_COPY" if self._admin.info.server_version >= 150000 else ""
        self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any connection still open on it (PostgreSQL 13+)."""
        if self._admin is None:
            self._admin = self.connect()
        self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def start(self) -> "PostgresServer":
        """Create the cluster and start it; raises PostgresUnavailable with the server's log on failure."""
        parent = _cluster_parent()
        remove_stale_clusters(parent)
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, SUPERUSER, SUPERUSER)
            self._run(
                [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--no-sync"],
                what="initdb",
            )
            for _ in range(3):  # the free port may be taken between choosing and binding it
                if self._start_server():
                    return self
            raise PostgresUnavailable(f"PostgreSQL did not start:\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _run(self, args: list[str], *, what: str) -> None:
        result = subprocess.run(
            [*self.as_postgres, *args], cwd=self.folder, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=120, check=False,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def _start_server(self) -> bool:
        """Start the postmaster on a new free port; True once it accepts connections."""
        self.port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "wal_level": "minimal",
            "max_wal_senders": "0",
            "max_wal_size": "128MB",
            "max_connections": "200",
            "TimeZone": SERVER_TIME_ZONE,
        }
        args = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [*self.as_postgres, *args], cwd=self.folder, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                preexec_fn=_die_with_parent if os.uname().sysname == "Linux" else None,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False
            try:
                with self.connect():
                    pass
            except psycopg.OperationalError:
                time.sleep(0.05)
                continue
            self.pid = self._postmaster_pid()
            return True
        self.stop_server()
        raise PostgresUnavailable(f"PostgreSQL did not answer within {START_TIMEOUT_S} s:\n{self._log_tail()}")

    def _postmaster_pid(self) -> int | None:
        """The server's own PID (the first line of postmaster.pid); `runuser` stays its parent."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop_server(self) -> None:
        """End the postmaster by its PID: fast shutdown, then immediate, then kill; waits for it."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.process is None:
            return
        pid = self.pid or self._postmaster_pid()
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            target = pid if pid is not None else self.process.pid
            try:
                os.kill(target, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                continue
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None
        self.pid = None

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self.stop_server()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"
