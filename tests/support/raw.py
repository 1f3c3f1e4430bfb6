"""Hand-made requests for what the SDKs never send: truncated bodies, lying headers, odd XML.

Signed with OSS signature V1 (docs/wire.md, Signatures) so the server gets past its gate.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import http.client
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.support.server import TesseraServer

SUBRESOURCES = {"acl", "uploads", "uploadId", "partNumber", "delete", "location", "stat", "bucketInfo",
                "lifecycle", "objectMeta", "append", "position", "continuation-token", "tagging", "symlink",
                "restore", "cors"}


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        text = self.body.decode("utf-8", "replace")
        start, end = text.find("<Code>"), text.find("</Code>")
        return text[start + 6 : end] if start >= 0 else ""


def sign_headers(server: TesseraServer, method: str, bucket: str, key: str, query: dict[str, str],
                 headers: dict[str, str]) -> dict[str, str]:
    headers = dict(headers)
    headers.setdefault("Date", email.utils.formatdate(time.time(), usegmt=True))
    resource = f"/{bucket}/{key}" if bucket else "/"
    signed = sorted((k, v) for k, v in query.items() if k in SUBRESOURCES)
    if signed:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in signed)
    oss_headers = "".join(f"{k.lower()}:{v}\n" for k, v in sorted(headers.items(), key=lambda i: i[0].lower())
                          if k.lower().startswith("x-oss-"))
    to_sign = "\n".join([method, headers.get("Content-MD5", ""), headers.get("Content-Type", ""),
                         headers["Date"], oss_headers + resource])
    digest = hmac.new(server.access_key_secret.encode(), to_sign.encode(), hashlib.sha1).digest()
    headers["Authorization"] = f"OSS {server.access_key_id}:{base64.b64encode(digest).decode()}"
    return headers


def path_of(bucket: str, key: str, query: dict[str, str]) -> str:
    path = f"/{bucket}/{quote(key, safe='')}" if bucket else "/"
    if query:
        path += "?" + "&".join(f"{quote(k)}={quote(v, safe='')}" if v else quote(k) for k, v in query.items())
    return path


def request(server: TesseraServer, method: str, bucket: str, key: str = "", *, query: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, body: bytes = b"", domain: str | None = None) -> RawResponse:
    """A signed request, path-style; with ``domain``, virtual-hosted: ``Host: <bucket>.<domain>``
    (or ``<domain>`` for the service) and the bucket left out of the path."""
    query = query or {}
    headers = sign_headers(server, method, bucket, key, query, headers or {})
    path = path_of(bucket, key, query)
    if domain is not None:
        headers["Host"] = f"{bucket}.{domain}" if bucket else domain
        path = path.removeprefix(f"/{bucket}") if bucket else path
    connection = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return RawResponse(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def unsigned_request(server: TesseraServer, method: str, path: str, body: bytes = b"",
                     headers: dict[str, str] | None = None) -> RawResponse:
    connection = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return RawResponse(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def send_truncated(server: TesseraServer, method: str, bucket: str, key: str, *, declared: int, sent: bytes,
                   query: dict[str, str] | None = None) -> None:
    """Declare ``declared`` bytes, send fewer, and hang up — a client that died mid-upload."""
    query = query or {}
    headers = sign_headers(server, method, bucket, key, query, {"Content-Length": str(declared)})
    head = f"{method} {path_of(bucket, key, query)} HTTP/1.1\r\nHost: 127.0.0.1:{_port(server)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(head.encode() + sent)
        time.sleep(0.2)


def start_request(server: TesseraServer, method: str, bucket: str, key: str, *, declared: int,
                  query: dict[str, str] | None = None) -> socket.socket:
    """Send a signed request head declaring ``declared`` body bytes; the caller sends the body."""
    query = query or {}
    headers = sign_headers(server, method, bucket, key, query, {"Content-Length": str(declared)})
    head = f"{method} {path_of(bucket, key, query)} HTTP/1.1\r\nHost: 127.0.0.1:{_port(server)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock = socket.create_connection(("127.0.0.1", _port(server)), timeout=10)
    sock.sendall(head.encode())
    return sock


def read_response(sock: socket.socket, method: str) -> RawResponse:
    with sock:
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return RawResponse(response.status, dict(response.getheaders()), response.read())


def declare_only(server: TesseraServer, method: str, bucket: str, key: str, *, declared: int,
                 query: dict[str, str] | None = None) -> RawResponse:
    """Declare a body of ``declared`` bytes, send none of it, and read the server's answer."""
    return read_response(start_request(server, method, bucket, key, declared=declared, query=query), method)


def blob_files(data_dir: Path) -> set[str]:
    """Every file under the blob and temp directories, for leak checks."""
    return {str(p.relative_to(data_dir)) for sub in ("blobs", "tmp") for p in (data_dir / sub).rglob("*")
            if p.is_file()}


def settle(data_dir: Path, before: set[str], seconds: float = 5.0) -> set[str]:
    """Wait until no file exists that was not there before; returns the leftovers."""
    deadline = time.monotonic() + seconds
    while True:
        extra = blob_files(data_dir) - before
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)


def _port(server: TesseraServer) -> int:
    return int(server.endpoint.rsplit(":", 1)[1])


def slow_get(server: TesseraServer, bucket: str, key: str) -> tuple[socket.socket, http.client.HTTPResponse]:
    """A signed GET whose reader has a small receive buffer, so that the server is still sending
    the body (and has not reached an object's later parts) while the caller acts."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", _port(server)))
    headers = sign_headers(server, "GET", bucket, key, {}, {})
    head = f"GET {path_of(bucket, key, {})} HTTP/1.1\r\nHost: 127.0.0.1:{_port(server)}\r\n"
    sock.sendall((head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
    response = http.client.HTTPResponse(sock, method="GET")
    response.begin()
    return sock, response
