"""The HTTP server: one catch-all handler that walks a request from socket to disk.

raw target → Target (bucket, key, query) → router → authentication gate → authorization →
handler → response,
with every answer carrying ``x-oss-request-id`` and ``Date``, and every failure turned into
the OSS error document once, here. Tessera's own endpoints live under ``/-/`` (no bucket name
can start with '-'), or at the root of the bucket ``-`` when virtual-hosted (``-.<domain>``). The router only names the handler (it reads no storage), so the OSS
operation is known before authentication and every answer, refusals too, is counted under it
for ``GET /-/metrics``.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from aiohttp import web

from tessera.api import admin, metrics
from tessera.api.addressing import TESSERA_BUCKET, bucket_in_host
from tessera.api.auth import RequestToVerify, authenticate
from tessera.api.oss import wire
from tessera.api.oss.authorize import authorize
from tessera.api.oss.cors import ResponseCors
from tessera.api.oss.context import OssRequest
from tessera.api.oss.errors import classify, error_document, error_header, expected
from tessera.api.oss.router import SELF_AUTHENTICATING, UNKNOWN_OPERATION, operation_name, route
from tessera.api.oss.target import parse_target
from tessera.console.app import Console, ConsoleOptions, is_browser_visit
from tessera.core.acl import ANONYMOUS, Requester
from tessera.core.storage import Storage
from tessera.meta import keys as key_rows

log = logging.getLogger("tessera.access")

SECRET_CACHE_SECONDS = 5.0
STORAGE_KEY = web.AppKey("storage", Storage)


@dataclass(frozen=True)
class ServerOptions:
    region: str = "cn-hangzhou"
    base_domain: str | None = None
    metrics_token: str | None = None  # when set, GET /-/metrics needs "Authorization: Bearer <token>"
    console: ConsoleOptions = field(default_factory=ConsoleOptions)


class SecretLookup:
    """Access key secrets (and whether a key is root), cached for a few seconds so a request
    costs no extra query."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._roots: dict[str, tuple[bool, float]] = {}

    async def requester(self, access_key_id: str | None) -> Requester:
        if access_key_id is None:
            return ANONYMOUS
        cached = self._roots.get(access_key_id)
        now = time.monotonic()
        if cached is None or cached[1] <= now:
            async with self.storage.db.read() as conn:
                cached = (await key_rows.is_root(conn, access_key_id), now + SECRET_CACHE_SECONDS)
            self._roots[access_key_id] = cached
        return Requester(access_key_id, is_root=cached[0])

    async def __call__(self, access_key_id: str) -> str | None:
        cached = self._cache.get(access_key_id)
        now = time.monotonic()
        if cached and cached[1] > now:
            return cached[0]
        async with self.storage.db.read() as conn:
            secret = await key_rows.secret_for(conn, access_key_id)
        self._cache[access_key_id] = (secret, now + SECRET_CACHE_SECONDS)
        return secret


def new_request_id() -> str:
    return secrets.token_hex(12).upper()


class Gateway:
    """The catch-all request handler."""

    def __init__(self, storage: Storage, options: ServerOptions) -> None:
        self.storage = storage
        self.options = options
        self.secrets = SecretLookup(storage)
        self.requests = metrics.RequestMetrics()
        self.cors = ResponseCors(storage)
        self.console = Console(storage, options.console, self.secrets.requester)

    async def handle(self, http: web.Request) -> web.StreamResponse:
        request_id = new_request_id()
        started = time.perf_counter()
        own_path = self.own_endpoint(http)
        if own_path is None and is_browser_visit(http) and bucket_in_host(http.host, self.options.base_domain) is None:
            operation, response = "Console", web.Response(status=302, headers={"Location": "/-/console/"})
        elif own_path is not None:
            operation, response = await self.internal(http, own_path)
        else:
            operation, response = await self.serve_oss(http, request_id)
        response.headers["x-oss-request-id"] = request_id
        response.headers["Server"] = "Tessera"
        elapsed = time.perf_counter() - started
        self.requests.observe(operation, response.status, elapsed)
        # The raw target, still percent-encoded: a decoded key could put a line break in the log.
        log.info("%s %s %s %s %.1fms", request_id, http.method, http.raw_path, response.status, elapsed * 1000)
        return response

    async def serve_oss(self, http: web.Request, request_id: str) -> tuple[str, web.StreamResponse]:
        """The OSS operation and its answer; every failure becomes an OSS error document."""
        operation, bucket = UNKNOWN_OPERATION, ""
        try:
            wire.check_header_text(http.headers)
            target = parse_target(http.raw_path, http.host, self.options.base_domain)
            bucket = target.bucket
            handler = route(http.method, target, http.headers)
            operation = operation_name(handler)
            # A preflight needs no signature and a form carries its own: those handlers check
            # who may do what themselves.
            own_checks = handler in SELF_AUTHENTICATING
            access_key_id = None if own_checks else await authenticate(
                RequestToVerify(http.method, target.bucket, target.key, target.query, http.headers),
                self.secrets,
                now=datetime.now(timezone.utc),
                region=self.options.region,
            )
            req = OssRequest(http, target, self.storage, access_key_id or "", request_id,
                             requester=await self.secrets.requester(access_key_id), region=self.options.region)
            if not own_checks:
                await authorize(req, operation)
            response = await handler(req)
        except Exception as error:
            response = self.error_response(http, error, request_id)
        await self.cors.decorate(http, bucket, response)
        return operation, response

    def error_response(self, http: web.Request, error: Exception, request_id: str) -> web.Response:
        if not expected(error):
            log.exception("%s unexpected error", request_id)
        oss_error = classify(error)
        if oss_error.status == 304:
            return web.Response(status=304)
        body = error_document(oss_error, request_id=request_id, host_id=http.host)
        if http.method == "HEAD":
            # HEAD has no body: the SDKs read the error from x-oss-err (docs/wire.md, Errors).
            return web.Response(status=oss_error.status,
                                headers={**oss_error.headers, "x-oss-err": error_header(body)})
        return web.Response(status=oss_error.status, body=body, content_type="application/xml",
                            headers=oss_error.headers)

    def own_endpoint(self, http: web.Request) -> str | None:
        """The path (``/-/...``) of one of Tessera's own endpoints, or None for an OSS request.
        A virtual-hosted request for a real bucket is always OSS: there ``/-/x`` is the key ``-/x``."""
        host_bucket = bucket_in_host(http.host, self.options.base_domain)
        if host_bucket == TESSERA_BUCKET:
            return "/-" + http.path
        if host_bucket is None and http.raw_path.startswith("/-/"):
            return http.path
        return None

    async def internal(self, http: web.Request, path: str) -> tuple[str, web.StreamResponse]:
        """Tessera's own endpoints, each with the ``operation`` its requests are counted under."""
        if path == "/-/health":
            async with self.storage.db.read() as conn:
                await key_rows.has_root(conn)
            # Which worker answered: lets an operator (and the tests) see every worker serving.
            return "Health", web.Response(text="ok\n", headers={"X-Tessera-Worker": str(os.getpid())})
        if path == "/-/metrics":
            scrape = await metrics.handle(http, self.storage, self.requests, token=self.options.metrics_token)
            scrape.headers["X-Tessera-Worker"] = str(os.getpid())
            return "Metrics", scrape
        if path == "/-/console" or path.startswith("/-/console/"):
            return "Console", await self.console.handle(http)
        if path.startswith("/-/admin/"):
            return "Admin", await admin.handle(http, path, self.storage, self.secrets, region=self.options.region)
        return UNKNOWN_OPERATION, web.Response(status=404, text="Not found\n")


def make_app(storage: Storage, options: ServerOptions) -> web.Application:
    # Part bodies can be large: aiohttp's own cap on request bodies is for read(), which the
    # streaming handlers never call; XML bodies are capped where they are read. Bodies are taken
    # as sent, never decoded by the HTTP layer, whatever their Content-Encoding: OSS stores
    # pre-compressed bytes verbatim (docs/compatibility.md, Content-Encoding).
    app = web.Application(client_max_size=1024**4, handler_args={"auto_decompress": False})
    app[STORAGE_KEY] = storage
    gateway = Gateway(storage, options)
    # Any path at all, CR and LF included (a '.' would not match them): keys may hold them.
    app.router.add_route("*", r"/{tail:[\s\S]*}", gateway.handle)
    return app
