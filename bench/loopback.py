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
