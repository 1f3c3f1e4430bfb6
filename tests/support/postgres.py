"""A throwaway PostgreSQL cluster, started from the installed server binaries for one test run.

``initdb`` refuses to run as root, so as root the cluster belongs to the unprivileged
``postgres`` user; it listens on 127.0.0.1 only and is gone when the context exits.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

INSTALL_HINT = "PostgreSQL server binaries were not found; run scripts/install-test-deps."


def find_binaries() -> Path:
    """The directory holding initdb and postgres: PATH first, then the newest Debian install."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for directory in reversed(versions):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "postgres").exists():
            return Path(directory)
    raise RuntimeError(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What a test cluster need not pay for: it is thrown away, so a crash of the machine loses nothing.
UNDURABLE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


class PostgresCluster:
    """``with PostgresCluster() as pg: url = pg.create_database("name")``. ``durable``: keep
    PostgreSQL's own flushes (fsync, synchronous_commit, full_page_writes), as a benchmark must
    for its commits to cost what they cost in production."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bin = find_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "postgres"
        self.process: subprocess.Popen[bytes] | None = None
        self._as_user: dict = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = {"user": account.pw_uid, "group": account.pw_gid}
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name

    def __enter__(self) -> "PostgresCluster":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8",
             *([] if self.durable else ["--no-sync"])],
            check=True, capture_output=True, **self._as_user,
        )
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", *(() if self.durable else UNDURABLE), "-c", "max_connections=200"],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "server.log", "wb"), start_new_session=True,
            **self._as_user,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'server.log').read_text()[-2000:]}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start within 30 s")

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql; its output, unaligned, without headings."""
        done = subprocess.run(
            [str(self.bin / "psql") if (self.bin / "psql").exists() else "psql", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", self.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t",
             "-c", statement],
            check=True, capture_output=True, text=True,
        )
        return done.stdout

    def stop(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGQUIT)  # immediate shutdown
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


def fresh_metadata_url(backend: str, tmp_path: Path, request: Any, prefix: str) -> str:
    """A new, empty metadata database of ``backend`` for one test: a SQLite file in
    ``tmp_path``, or a database named after the test on the session's PostgreSQL cluster
    (the ``postgres_cluster`` fixture)."""
    if backend != "postgresql":
        from tessera.meta.database import sqlite_url

        return sqlite_url(tmp_path)
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"{prefix}_{tmp_path.name.replace('-', '_')}"[:60])
