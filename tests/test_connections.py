"""The connection layer under ``tessera serve`` (tessera.api.connections), in process. It leans
on internals of aiohttp's RequestHandler: these tests tell at once when a release moves them."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import time
from typing import AsyncIterator

import pytest
from aiohttp import web

from tessera.api.connections import CUT_WAIT_SECONDS, Listener
from tessera.core.errors import IncompleteBody


async def _count_body(request: web.Request) -> web.Response:
    received = 0
    try:
        async for chunk in request.content.iter_any():
            received += len(chunk)
    except IncompleteBody:
        return web.Response(status=400, text=f"incomplete after {received}")
    if request.path == "/forever":
        await asyncio.sleep(3600)
    return web.Response(text=f"got {received}")


@contextlib.asynccontextmanager
async def _serving(**handler_args: object) -> AsyncIterator[tuple[Listener, int]]:
    app = web.Application(handler_args=handler_args)
    app.router.add_route("*", "/{tail:.*}", _count_body)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    listener = Listener(runner.server)
    await listener.listen(sock, backlog=16)
    try:
        yield listener, port
    finally:
        await runner.cleanup()


async def _send_head(port: int, path: str, length: int,
                     extra: str = "") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"PUT {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {length}\r\n{extra}\r\n".encode())
    await writer.drain()
    return reader, writer


@pytest.mark.parametrize("sent,answer", [(300, b"400 Bad Request"), (1000, b"200 OK")])
def test_half_close_is_answered_then_closed(sent: int, answer: bytes) -> None:
    """Mid-body: the body fails with IncompleteBody; after the whole body: answered as usual."""
    async def scenario() -> bytes:
        async with _serving() as (_listener, port):
            reader, writer = await _send_head(port, "/", 1000)
            writer.write(b"x" * sent)
            writer.write_eof()
            return await asyncio.wait_for(reader.read(), 5)  # until the server closes

    received = asyncio.run(scenario())
    assert received.startswith(b"HTTP/1.1 " + answer)
    assert (b"got 1000" if sent == 1000 else b"incomplete after") in received


def test_drain_receives_a_body_still_arriving_and_closes_the_rest() -> None:
    async def scenario() -> None:
        async with _serving() as (listener, port):
            idle_reader, idle_writer = await _send_head(port, "/", 0)
            assert (await idle_reader.readuntil(b"got 0")).startswith(b"HTTP/1.1 200 ")
            reader, writer = await _send_head(port, "/", 1000)
            writer.write(b"x" * 300)
            await asyncio.sleep(0.1)
            draining = asyncio.create_task(listener.drain(5.0))
            assert await asyncio.wait_for(idle_reader.read(), 1) == b""  # the idle one: closed at once
            try:
                await asyncio.open_connection("127.0.0.1", port)
                raise AssertionError("a new connection was accepted while draining")
            except ConnectionRefusedError:
                pass
            writer.write(b"x" * 700)
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"got 1000")
            assert b"Connection: close" in answer
            assert await asyncio.wait_for(draining, 1) == 0

    asyncio.run(scenario())


def test_drain_cuts_what_runs_past_the_grace() -> None:
    async def scenario() -> tuple[int, bytes, float]:
        async with _serving() as (listener, port):
            reader, writer = await _send_head(port, "/forever", 10)
            writer.write(b"x" * 10)
            await asyncio.sleep(0.1)
            started = time.monotonic()
            cut = await listener.drain(0.2)
            return cut, await asyncio.wait_for(reader.read(), 1), time.monotonic() - started

    cut, answer, took = asyncio.run(scenario())
    assert (cut, answer) == (1, b"")
    assert 0.2 <= took < 0.2 + CUT_WAIT_SECONDS


def test_connections_get_the_application_handler_args() -> None:
    body = gzip.compress(b"x" * 5000)

    async def scenario() -> bytes:
        async with _serving(auto_decompress=False) as (_listener, port):
            reader, writer = await _send_head(port, "/", len(body), "Content-Encoding: gzip\r\n")
            writer.write(body)
            return await asyncio.wait_for(reader.readuntil(f"got {len(body)}".encode()), 5)

    assert asyncio.run(scenario()).startswith(b"HTTP/1.1 200 ")
