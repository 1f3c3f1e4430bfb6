"""A raw HTTP/1.1 client for loopback benchmarks: it costs next to nothing, so what is timed is
the server. Bodies go out with sendfile and come back into one reused buffer."""

from __future__ import annotations

import fcntl
import os
import re
import socket
import time
from pathlib import Path

MIB = 1024 * 1024
SPLICE_CHUNK = MIB
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, spelled out for Pythons that lack the name


def put_file(port: int, path: str, headers: dict[str, str], source: Path) -> tuple[int, float]:
    """PUT a file with sendfile (the client costs next to nothing); returns (status, seconds)."""
    size = source.stat().st_size
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {size}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock, open(source, "rb") as f:
        started = time.perf_counter()
        sock.sendall(head.encode())
        sock.sendfile(f)
        status = _read_response_status(sock)
        return status, time.perf_counter() - started


def _read_response_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def get_to_null(port: int, path: str, headers: dict[str, str]) -> tuple[int, int, float]:
    """GET and drop the body; returns (status, body bytes, seconds to the last byte).

    The body is spliced from the socket through a pipe into /dev/null, never copied into this
    process, so the figure is the server's (and the kernel's), not this client's.
    """
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock, open(os.devnull, "wb") as null:
        started = time.perf_counter()
        sock.sendall(head.encode())
        status, length = _read_head(sock)
        read_end, write_end = os.pipe()
        fcntl.fcntl(write_end, F_SETPIPE_SZ, SPLICE_CHUNK)
        body = 0
        try:
            while body < length:
                moved = os.splice(sock.fileno(), write_end, min(length - body, SPLICE_CHUNK))
                if not moved:
                    break  # the server hung up early
                body += moved
                while moved:
                    moved -= os.splice(read_end, null.fileno(), moved)
        finally:
            os.close(read_end)
            os.close(write_end)
        return status, body, time.perf_counter() - started


def _read_head(sock: socket.socket) -> tuple[int, int]:
    """Read exactly the response head (peeking first, so no body byte is consumed)."""
    while True:
        peeked = sock.recv(65536, socket.MSG_PEEK)
        end = peeked.find(b"\r\n\r\n")
        if end >= 0:
            break
        if not peeked:
            raise ConnectionError("the server closed the connection before answering")
        time.sleep(0.0001)
    head = sock.recv(end + 4).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    length = int(re.search(r"(?i)content-length: (\d+)", head).group(1))
    return status, length


def keepalive_gets(port: int, path: str, count: int) -> float:
    """``count`` small GETs one after another on one connection; returns requests per second."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        for _ in range(count):
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
            while len(body) < length:
                body += sock.recv(65536)
        return count / (time.perf_counter() - started)


class KeepAlive:
    """One persistent HTTP/1.1 connection to 127.0.0.1:``port``, for many small requests.

    A request is prepared once, before timing (:meth:`prepare`: the request line and headers as
    bytes, a small body joined to them), and sent as it is; the answer's head is parsed only for
    its status, its length and whether the server keeps the connection. Bodies of any framing
    (Content-Length, chunked, or until close) are read whole into memory and returned.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.answered = 0  # on the current connection

    def prepare(self, method: str, target: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> tuple[bytes, bytes]:
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if body or method in ("PUT", "POST"):
            head += f"Content-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
        if len(body) <= 64 * 1024:
            return head.encode() + body, b""
        return head.encode(), body  # a large body goes out by itself, never copied

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer, self.answered = sock, b"", 0
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, prepared: tuple[bytes, bytes], head_only: bool = False) -> tuple[int, bytes]:
        """Send a prepared request and read the answer: (status, body). A connection the server
        closed while idle is opened again once (nothing of the request had been answered)."""
        for attempt in (0, 1):
            sock = self.sock or self._connect()
            reused = self.answered > 0
            try:
                sock.sendall(prepared[0])
                if prepared[1]:
                    sock.sendall(prepared[1])
                return self._answer(sock, head_only)
            except (ConnectionResetError, BrokenPipeError, EOFError):
                self.close()
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def _fill(self, sock: socket.socket) -> None:
        chunk = sock.recv(262144)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def _answer(self, sock: socket.socket, head_only: bool) -> tuple[int, bytes]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._fill(sock)
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        keep = fields.get("connection", "").lower() != "close" and lines[0].startswith("HTTP/1.1")
        if head_only or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            body = self._chunked(sock)
        elif "content-length" in fields:
            length = int(fields["content-length"])
            while len(self.buffer) < length:
                self._fill(sock)
            body, self.buffer = self.buffer[:length], self.buffer[length:]
        else:  # the body ends when the server closes the connection
            keep = False
            try:
                while True:
                    self._fill(sock)
            except EOFError:
                pass
            body, self.buffer = self.buffer, b""
        self.answered += 1
        if not keep:
            self.close()
        return status, body

    def _chunked(self, sock: socket.socket) -> bytes:
        parts = []
        while True:
            while (end := self.buffer.find(b"\r\n")) < 0:
                self._fill(sock)
            size = int(self.buffer[:end].split(b";")[0], 16)
            self.buffer = self.buffer[end + 2:]
            while len(self.buffer) < size + 2:
                self._fill(sock)
            parts.append(self.buffer[:size])
            self.buffer = self.buffer[size + 2:]
            if size == 0:  # no trailers are sent by the servers measured here
                return b"".join(parts)
