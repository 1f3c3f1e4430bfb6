"""The floor under any Python object server on aiohttp: the least a durable server must do for
bench/bench_small.py's rows, and nothing else — no signature check, no metadata database, no
metering, no XML beyond the few elements the bench reads, no access log.

* ``PUT /bucket/key``: read the body, MD5 it, write it to a uniquely named file, fsync it,
  rename it over the key's file, fsync the directory (a blob and its name on stable storage
  before the answer, as Tessera's PUT has them);
* ``GET /bucket/key``: read the file, answer it;
* ``POST /bucket/key?uploads``: an upload record (a small file, fsync'd with its directory);
  ``DELETE /bucket/key?uploadId=…``: unlink it, fsync the directory;
* ``GET /bucket?marker=…&max-keys=…``: the sorted directory listing, one ``<Key>`` per key;
* ``PUT /bucket``: create the bucket's directory.

With ``--metadata sqlite`` it also keeps what Tessera's SQLite keeps at the least: a row per
object (size, ETag, file) and per upload, in one SQLite file (WAL, ``synchronous=FULL``, as
Tessera's), written and committed — one fsync — after the object's file is durable and before the
answer; a GET reads the row before the file. One statement and one commit per write, no group
commit: the bound of a design that keeps blobs in files and their names in a database.

bench/bench_small.py runs it as the target "floor" (``--only floor``) with the same client as the
other targets: a Python/aiohttp server cannot beat these figures on the same machine, so where the
floor is behind a peer, so is any Tessera built on that stack. ``--workers N`` runs N processes
accepting on one port (SO_REUSEPORT), as ``tessera serve --workers N`` does.

    .venv/bin/python bench/floor_server.py --port PORT --directory DIR [--workers N] [--metadata sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import signal
import sqlite3
import threading
import urllib.parse
import uuid
from pathlib import Path

from aiohttp import web


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(directory: Path, name: str, body: bytes) -> None:
    temporary = directory / f".{uuid.uuid4().hex}"
    with open(temporary, "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, directory / name)
    _fsync_directory(directory)


def _remove_durably(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_directory(path.parent)
    return True


class _Metadata:
    """The rows of ``--metadata sqlite``: statements and commits run in the caller's thread, one
    writer at a time (the threads of one process take a lock; processes meet at SQLite's)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=60000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE IF NOT EXISTS objects (bucket TEXT, key TEXT, size INTEGER, etag TEXT, "
                        "file TEXT, PRIMARY KEY (bucket, key))")
        self.db.execute("CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, bucket TEXT, key TEXT)")
        self.lock = threading.Lock()

    def write(self, statement: str, values: tuple) -> int:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                changed = self.db.execute(statement, values).rowcount
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return changed

    def read(self, statement: str, values: tuple) -> tuple | None:
        with self.lock:
            return self.db.execute(statement, values).fetchone()


def make_app(root: Path, metadata: _Metadata | None = None) -> web.Application:
    uploads = root / ".uploads"
    uploads.mkdir(parents=True, exist_ok=True)

    def bucket_of(request: web.Request) -> Path:
        return root / request.match_info["bucket"]

    def file_of(request: web.Request) -> Path:
        return bucket_of(request) / urllib.parse.quote(request.match_info["key"], safe="")

    async def put_bucket(request: web.Request) -> web.Response:
        bucket_of(request).mkdir(exist_ok=True)
        return web.Response()

    async def list_bucket(request: web.Request) -> web.Response:
        marker = urllib.parse.quote(request.query.get("marker", ""), safe="")
        limit = int(request.query.get("max-keys", "1000"))
        names = sorted(n for n in os.listdir(bucket_of(request)) if not n.startswith(".") and n > marker)[:limit]
        keys = "".join(f"<Contents><Key>{urllib.parse.unquote(n)}</Key></Contents>" for n in names)
        return web.Response(body=f"<ListBucketResult>{keys}</ListBucketResult>".encode(),
                            content_type="application/xml")

    async def put_object(request: web.Request) -> web.Response:
        body = await request.read()
        path = file_of(request)
        etag = hashlib.md5(body).hexdigest()

        def store() -> None:
            _write_durably(path.parent, path.name, body)
            if metadata is not None:
                metadata.write("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?)",
                               (request.match_info["bucket"], request.match_info["key"], len(body), etag, str(path)))

        await asyncio.get_running_loop().run_in_executor(None, store)
        return web.Response(headers={"ETag": f'"{etag}"'})

    async def get_object(request: web.Request) -> web.Response:
        if metadata is not None and metadata.read("SELECT size, etag, file FROM objects WHERE bucket = ? AND key = ?",
                                                  (request.match_info["bucket"], request.match_info["key"])) is None:
            return web.Response(status=404)
        try:
            return web.Response(body=file_of(request).read_bytes(), content_type="application/octet-stream")
        except FileNotFoundError:
            return web.Response(status=404)

    async def post_object(request: web.Request) -> web.Response:
        if "uploads" not in request.query:
            return web.Response(status=400)
        upload_id = uuid.uuid4().hex
        record = request.match_info["key"].encode()
        if metadata is not None:
            await asyncio.get_running_loop().run_in_executor(None, metadata.write, "INSERT INTO uploads VALUES (?, ?, ?)",
                                                             (upload_id, request.match_info["bucket"],
                                                              request.match_info["key"]))
        else:
            await asyncio.get_running_loop().run_in_executor(None, _write_durably, uploads, upload_id, record)
        return web.Response(body=f"<InitiateMultipartUploadResult><UploadId>{upload_id}</UploadId>"
                                 f"</InitiateMultipartUploadResult>".encode(), content_type="application/xml")

    async def delete_object(request: web.Request) -> web.Response:
        upload_id = request.query.get("uploadId", "")
        if upload_id and metadata is not None:
            removed = await asyncio.get_running_loop().run_in_executor(
                None, metadata.write, "DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
            return web.Response(status=204 if removed else 404)
        if upload_id:
            path = uploads / os.path.basename(upload_id)
        else:
            path = file_of(request)
        removed = await asyncio.get_running_loop().run_in_executor(None, _remove_durably, path)
        return web.Response(status=204 if removed or not upload_id else 404)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_put("/{bucket}", put_bucket)
    app.router.add_get("/{bucket}", list_bucket)
    app.router.add_get("/{bucket}/", list_bucket)
    app.router.add_put("/{bucket}/{key:.+}", put_object)
    app.router.add_get("/{bucket}/{key:.+}", get_object)
    app.router.add_post("/{bucket}/{key:.+}", post_object)
    app.router.add_delete("/{bucket}/{key:.+}", delete_object)
    return app


def serve(port: int, directory: Path, metadata: str) -> None:
    rows = _Metadata(directory / "metadata.sqlite") if metadata == "sqlite" else None
    web.run_app(make_app(directory, rows), host="127.0.0.1", port=port, reuse_port=True, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--metadata", choices=("none", "sqlite"), default="none")
    options = parser.parse_args()
    if options.metadata == "sqlite":
        _Metadata(options.directory / "metadata.sqlite")  # the tables, before any worker starts
    if options.workers == 1:
        serve(options.port, options.directory, options.metadata)
        return
    processes = [multiprocessing.Process(target=serve, args=(options.port, options.directory, options.metadata))
                 for _ in range(options.workers)]
    for process in processes:
        process.start()

    def stop(signum: int, frame: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    for process in processes:
        process.join()


if __name__ == "__main__":
    main()
