"""A real Tessera process for end-to-end tests: started on a free loopback port, killable."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

TEST_ACCESS_KEY_ID = "LTAItesseratests0000"
TEST_ACCESS_KEY_SECRET = "tessera-test-secret-do-not-use"

_running: set["TesseraServer"] = set()


class PortTaken(RuntimeError):
    """The port chosen was bound by someone else before the server could bind it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TesseraServer:
    """``python -m tessera serve`` on its own data directory (and, optionally, PostgreSQL and a
    blob backend elsewhere: ``blobs_url``)."""

    def __init__(self, data_dir: Path, metadata_url: str | None = None, *, region: str = "cn-hangzhou",
                 workers: int = 1, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None,
                 blobs_url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.metadata_url = metadata_url
        self.blobs_url = blobs_url
        self.region = region
        self.workers = workers
        self.extra_args = extra_args
        self.env = env or {}
        self.access_key_id = TEST_ACCESS_KEY_ID
        self.access_key_secret = TEST_ACCESS_KEY_SECRET
        self.port = 0
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def blobs_dir(self) -> Path:
        """The directory of a ``file://`` blob backend (the data directory by default)."""
        if self.blobs_url is None:
            return self.data_dir
        parts = urllib.parse.urlsplit(self.blobs_url)
        assert parts.scheme == "file", self.blobs_url
        return Path(urllib.parse.unquote(parts.path))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> set[int]:
        """The processes ``--workers N`` started (the supervisor's children)."""
        return {int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()}

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "tessera", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), "--region", self.region, "--workers", str(self.workers)]
        return command + self._storage_args() + list(self.extra_args)

    def _storage_args(self) -> list[str]:
        return ((["--metadata-url", self.metadata_url] if self.metadata_url else [])
                + (["--blobs", self.blobs_url] if self.blobs_url else []))

    def start(self) -> "TesseraServer":
        chosen_here = not self.port
        for attempt in range(5):
            if chosen_here:
                self.port = free_port()
            try:
                self._launch()
                return self
            except PortTaken:
                # Another test process (pytest -n) was handed the same free port: take another.
                if not chosen_here or attempt == 4:
                    raise
        return self

    def _launch(self) -> None:
        env = {**os.environ, "OSS_ACCESS_KEY_ID": self.access_key_id,
               "OSS_ACCESS_KEY_SECRET": self.access_key_secret, **self.env}
        log = open(self.log_path, "ab")
        self._log_start = log.tell()
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        log.close()
        _running.add(self)
        self._wait_until_healthy()

    def _answers_for_us(self, worker: str | None) -> bool:
        """Whether the health answer came from this server's own process (or one of its workers),
        not from another test process's server that holds the port."""
        assert self.process is not None
        if worker is None or not worker.isdigit():
            return False
        if int(worker) == self.process.pid:
            return True
        try:
            return int(worker) in self.worker_pids()
        except OSError:
            return False

    def _wait_until_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                _running.discard(self)
                tail = self.log_tail()
                if "address is already in use" in self.log_text()[self._log_start:]:
                    raise PortTaken(self.port)
                raise RuntimeError(f"tessera exited with {code}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/-/health", timeout=1) as response:
                    if response.status == 200 and self._answers_for_us(response.headers.get("X-Tessera-Worker")):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"tessera did not become healthy in {timeout}s:\n{self.log_tail()}")

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``tessera admin …`` on this server's storage (the server may be running)."""
        command = [sys.executable, "-m", "tessera", "admin", *args, "--data-dir", str(self.data_dir),
                   *self._storage_args()]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **self.env})

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """SIGTERM, a few seconds' grace, then SIGKILL."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait()
        self._signal_group(signal.SIGKILL)  # any worker left behind
        self.process = None
        _running.discard(self)

    def kill(self) -> None:
        """SIGKILL the whole process group at once: a crash, for crash tests."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        self.process = None
        _running.discard(self)

    def restart(self) -> None:
        """Start again on the same data and the same port."""
        self.stop()
        self.start()

    def __enter__(self) -> "TesseraServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.kill()
