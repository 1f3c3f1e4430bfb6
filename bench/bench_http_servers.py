"""Which HTTP server should carry Tessera? The same three minimal handlers on each candidate:

* PUT: receive a body, MD5 it, write it to a file, fsync (what every upload must do);
* GET of a large file (aiohttp can hand it to the kernel with sendfile; ASGI servers stream it
  through user space in chunks);
* GET of a two-byte body, many times on one keep-alive connection (per-request overhead, which
  bounds small requests such as ListParts, Complete and HeadObject).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/bench_http_servers.py [--size-mib 1024] [--requests 5000]

Each server runs in its own process on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loopback import MIB, get_to_null, keepalive_gets, put_file  # noqa: E402

CHUNK = MIB


def _listening_socket(port_queue: multiprocessing.Queue) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted sockets: without it, an ASGI server's separate head and body writes
    # meet the client's delayed ACK and each small request waits 40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port_queue.put(sock.getsockname()[1])
    return sock


def run_aiohttp(port_queue: multiprocessing.Queue, directory: str) -> None:
    from aiohttp import web

    big = Path(directory) / "big.bin"

    async def put(request: web.Request) -> web.Response:
        digest = hashlib.md5()
        with open(Path(directory) / "upload.bin", "wb") as f:
            async for chunk in request.content.iter_any():
                digest.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        return web.Response(headers={"ETag": digest.hexdigest()})

    async def get_big(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(big)  # sendfile

    async def get_small(request: web.Request) -> web.Response:
        return web.Response(body=b"ok")

    app = web.Application(client_max_size=1024**4)
    app.router.add_put("/upload", put)
    app.router.add_get("/big", get_big)
    app.router.add_get("/small", get_small)
    web.run_app(app, sock=_listening_socket(port_queue), print=None, access_log=None)


def asgi_app(directory: str) -> Callable:
    big = Path(directory) / "big.bin"

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "PUT":
            digest = hashlib.md5()
            with open(Path(directory) / "upload.bin", "wb") as f:
                while True:
                    message = await receive()
                    body = message.get("body", b"")
                    digest.update(body)
                    f.write(body)
                    if not message.get("more_body"):
                        break
                f.flush()
                os.fsync(f.fileno())
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"etag", digest.hexdigest().encode()), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
        elif scope["path"] == "/big":
            size = big.stat().st_size
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", str(size).encode())]})
            with open(big, "rb") as f:
                while chunk := f.read(CHUNK):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})

    return app


def run_uvicorn(port_queue: multiprocessing.Queue, directory: str, loop: str, http: str) -> None:
    import uvicorn

    sock = _listening_socket(port_queue)
    config = uvicorn.Config(asgi_app(directory), fd=sock.fileno(), loop=loop, http=http, log_level="warning",
                            access_log=False)
    uvicorn.Server(config).run()


CANDIDATES: list[tuple[str, Callable, tuple]] = [
    ("aiohttp (asyncio, sendfile)", run_aiohttp, ()),
    ("uvicorn (asyncio, h11)", run_uvicorn, ("asyncio", "h11")),
    ("uvicorn (uvloop, httptools)", run_uvicorn, ("uvloop", "httptools")),
]


def measure(name: str, target: Callable, extra: tuple, directory: str, source: Path, requests: int) -> tuple:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(queue, directory, *extra), daemon=True)
    process.start()
    try:
        port = queue.get(timeout=30)
        time.sleep(0.3)
        size = source.stat().st_size
        status, seconds = put_file(port, "/upload", {}, source)
        assert status == 200, status
        put_rate = size / seconds
        status, received, seconds = get_to_null(port, "/big", {})
        assert status == 200 and received == size, (status, received)
        get_rate = size / seconds
        small_rate = keepalive_gets(port, "/small", requests)
        return name, put_rate, get_rate, small_rate
    finally:
        process.terminate()
        process.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the PUT and GET bodies")
    parser.add_argument("--requests", type=int, default=5000, help="small GETs on one connection")
    args = parser.parse_args()
    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="tessera-http-bench-", dir=os.environ.get("BENCH_DIR")) as scratch:
        source = Path(scratch) / "big.bin"
        with open(source, "wb") as f:
            for _ in range(size // (4 * MIB)):
                f.write(os.urandom(4 * MIB))
        rows = [measure(name, target, extra, scratch, source, args.requests) for name, target, extra in CANDIDATES]
    print(f"\n{'server':<30}  {'PUT+MD5+fsync':>14}  {'GET (large)':>12}  {'small GETs':>11}")
    print(f"{'-' * 30}  {'-' * 14}  {'-' * 12}  {'-' * 11}")
    for name, put_rate, get_rate, small_rate in rows:
        print(f"{name:<30}  {put_rate / MIB:>9,.0f} MiB/s  {get_rate / 1e9:>7.2f} GB/s  {small_rate:>7,.0f} /s")


if __name__ == "__main__":
    main()
