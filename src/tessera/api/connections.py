"""The server's connections: a shutdown that answers every request it accepted, and an answer
for a client that stops sending mid-body.

aiohttp's own shutdown (``AppRunner.cleanup``: ``Server.pre_shutdown``, then
``RequestHandler.shutdown``) first marks every connection as closing, and a closing connection
throws away whatever bytes still arrive. The rest of an upload body still in the socket buffers
when the shutdown begins never reaches its handler, which waits for it until the shutdown
timeout (60 s) or until the client gives up; either way the client gets no answer. Here,
instead, ``Listener.drain`` closes the listening socket and the idle connections, lets each
busy connection keep receiving until its request is answered (with ``Connection: close``), and
cancels only what still runs when the grace period ends.

aiohttp also lets asyncio close the transport when the client half-closes (``shutdown(SHUT_WR)``),
so a body cut short that way cannot be answered. A ``Connection`` keeps the transport open for
writing, fails the body being received with IncompleteBody, answers, then closes.

Both rely on a few internals of aiohttp 3's ``RequestHandler`` (``_request_count``,
``_messages``, ``_task_handler``, ``_waiter``) and ``Server._kwargs``; tests/test_connections.py
holds them to it.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from tessera.core.errors import IncompleteBody

POLL_SECONDS = 0.05  # how often a drain looks for connections that went idle
CUT_WAIT_SECONDS = 2.0  # how long cancelled requests get to clean up after the grace period


class Connection(RequestHandler):
    """One client connection (aiohttp's protocol object), aware of its listener's drain."""

    def __init__(self, listener: "Listener") -> None:
        # What aiohttp's Server would give a RequestHandler: the runner's options and the
        # application's handler_args.
        super().__init__(listener.dispatcher, loop=asyncio.get_running_loop(), **listener.dispatcher._kwargs)
        self.listener = listener
        self.answered = 0  # requests whose answer was sent (or failed to be)
        self.task: asyncio.Task[None] | None = None  # serves the connection's requests in turn
        self._receiving: Any = None  # the body of the last request received
        self._half_closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.task = self._task_handler

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._messages:  # a new request arrived: its body is the one still coming in
            self._receiving = self._messages[-1][1]

    @property
    def quiet(self) -> bool:
        """Every request received has been answered."""
        return self.answered >= self._request_count

    @property
    def idle(self) -> bool:
        """Quiet, and waiting for the next request (not still reading an unused body)."""
        return self.quiet and self._waiter is not None and not self._waiter.done()

    def eof_received(self) -> bool | None:
        if self.quiet:
            self._end_unused_body()
            return None  # nothing to answer: let the transport close
        self._half_closed = True
        self._fail_body("The client stopped sending (it closed its side of the connection) before the end "
                        "of the body its headers announced.")
        self.close()  # answer what was asked, then close
        return True  # keep the transport open for writing the answer

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if self.quiet:
            self._end_unused_body()
        else:  # aiohttp fails the body of the request being handled, not one whose handler is to start
            self._fail_body("The connection was lost before the end of the body its headers announced.")

    def _unfinished_body(self) -> Any:
        body = self._receiving
        return body if body is not None and not body.is_eof() and body.exception() is None else None

    def _fail_body(self, message: str) -> None:
        body = self._unfinished_body()
        if body is not None:
            body.set_exception(IncompleteBody(message))

    def _end_unused_body(self) -> None:
        """A body no handler reads (its request was answered) that aiohttp would linger over."""
        body = self._unfinished_body()
        if body is not None:
            body.feed_eof()

    async def finish_response(self, request: web.BaseRequest, resp: web.StreamResponse,
                              start_time: float | None) -> tuple[web.StreamResponse, bool]:
        self._close_if_draining(resp)
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self.answered += 1
            self._close_if_draining(resp)  # an answer already under way when the drain began
            if self._half_closed:
                request.content.feed_eof()  # nothing more can arrive: no lingering over the rest

    def _close_if_draining(self, resp: web.StreamResponse) -> None:
        if self.listener.draining:
            resp.force_close()

    def cut(self) -> None:
        """Cancel the request in progress and drop the connection (the grace period is over)."""
        if self.task is not None:
            self.task.cancel()
        self.force_close()


class Listener:
    """The listening sockets and the connections they accepted, for aiohttp's request
    dispatcher (``AppRunner.server``)."""

    def __init__(self, dispatcher: web.Server) -> None:
        self.dispatcher = dispatcher
        self.draining = False
        self._servers: list[asyncio.AbstractServer] = []

    async def listen(self, sock: socket.socket, *, backlog: int) -> None:
        """Accept the connections of ``sock`` too."""
        self._servers.append(await asyncio.get_running_loop().create_server(
            lambda: Connection(self), sock=sock, backlog=backlog
        ))

    @property
    def connections(self) -> list[Connection]:
        return self.dispatcher.connections  # type: ignore[return-value]

    async def drain(self, grace: float) -> int:
        """Stop listening and close the idle connections now; let the requests in progress be
        received, handled and answered for up to ``grace`` seconds, closing each connection once
        it is idle; then cut what still runs. Returns how many connections were cut."""
        loop = asyncio.get_running_loop()
        self.draining = True
        for server in self._servers:
            server.close()
        deadline = loop.time() + grace
        while True:
            busy = []
            for connection in self.connections:
                if connection.idle:
                    connection.force_close()
                else:
                    busy.append(connection)
            remaining = deadline - loop.time()
            if not busy or remaining <= 0:
                break
            await asyncio.sleep(min(POLL_SECONDS, remaining))
        for connection in busy:
            connection.cut()
        tasks = [c.task for c in busy if c.task is not None and not c.task.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=CUT_WAIT_SECONDS)
        return len(busy)
