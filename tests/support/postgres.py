"""A throwaway PostgreSQL cluster, started from the installed server binaries for one test run.

``initdb`` refuses to run as root, so as root the cluster belongs to the unprivileged
``postgres`` user; it listens on 127.0.0.1 only and is gone when the context exits.
"""

from __future__ import annotations

import atexit
import contextlib
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

    def __init__(self, *, durable: bool = False, settings: dict[str, str] | None = None) -> None:
        self.durable = durable
        self.settings = dict(settings or {})  # server settings of its own, over the defaults above
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
        """A new cluster in ``data``, running."""
        self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8",
                  *([] if self.durable else ["--no-sync"]))
        atexit.register(self.stop)
        self.launch()

    def launch(self) -> None:
        """The server of the cluster in ``data``, on ``port``, once it accepts connections."""
        options = [*(() if self.durable else UNDURABLE), "-c", "max_connections=200"]
        for name, value in self.settings.items():
            options += ["-c", f"{name}={value}"]
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", *options],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "server.log", "ab"), start_new_session=True,
            **self._as_user,
        )
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

    def shut_down(self, how: str = "immediate") -> None:
        """Stop the server, keeping the cluster: ``fast`` (clients are disconnected, a checkpoint
        is written), ``immediate`` (the server crashes on purpose: recovery from the WAL at the
        next start) or ``kill`` (SIGKILL of every server process, as when its machine dies)."""
        if self.process is None:
            return
        signals = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT, "kill": signal.SIGKILL}
        try:
            os.killpg(self.process.pid, signals[how])
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def freeze(self) -> None:
        """Every server process stopped (SIGSTOP): connections stay open and nothing answers, as
        when its machine hangs or the network between is cut."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGSTOP)

    def restart(self, how: str = "immediate") -> None:
        self.shut_down(how)
        self.launch()

    def standby(self, port: int | None = None) -> "PostgresCluster":
        """A streaming standby of this cluster (``pg_basebackup -R``), running on ``port`` or a
        free one."""
        standby = PostgresCluster(durable=self.durable, settings=self.settings)
        standby.user, standby.port = self.user, port or standby.port
        standby._run("pg_basebackup", "-D", str(standby.data), "-h", "127.0.0.1", "-p", str(self.port),
                     "-U", self.user, "-R", "-X", "stream", "-c", "fast")
        atexit.register(standby.stop)
        standby.launch()
        return standby

    def make_standbys_synchronous(self) -> None:
        """Every commit waits until a standby has it (``synchronous_standby_names = '*'``)."""
        self.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        self.sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while self.sql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").strip() == "0":
            if time.monotonic() > deadline:
                raise RuntimeError("no standby became synchronous within 30 s")
            time.sleep(0.1)

    def promote(self) -> None:
        """This standby becomes a primary (``pg_promote``, waiting until it accepts writes)."""
        if self.sql("SELECT pg_promote(wait => true, wait_seconds => 30)").strip() != "t":
            raise RuntimeError("the standby was not promoted within 30 s")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([str(self.bin / program), *args], check=True, capture_output=True, **self._as_user)

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
        self.shut_down("immediate")
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
