"""CORS: PutBucketCors, GetBucketCors, DeleteBucketCors, the OPTIONS preflight, and the
Access-Control-* headers of the answers to browsers' requests (docs/compatibility.md, CORS).

The preflight is answered without a signature (a browser never signs it). The rules are read
from the metadata store for every request that carries ``Origin``, so a change of rules holds
from the next request on, in every worker. Only ``Vary: Origin`` on answers to requests without
``Origin`` comes from a per-process cache, at most ``VARY_CACHE_SECONDS`` old.
"""

from __future__ import annotations

import logging
import time
from xml.etree.ElementTree import Element

from aiohttp import web

from tessera.api.numbers import decimal
from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response, xml_response
from tessera.api.oss.errors import OssError
from tessera.api.oss.wire import Xml, child_text, children, element, elements, leaf
from tessera.core.buckets import get_bucket
from tessera.core.cors import config
from tessera.core.cors.rules import CorsConfiguration, CorsRule
from tessera.core.errors import InvalidArgument
from tessera.core.storage import Storage

log = logging.getLogger(__name__)

VARY_CACHE_SECONDS = 5.0
VARY_CACHE_ENTRIES = 10_000
MAX_CORS_BODY = 16 * 1024  # the limit OSS documents for the XML body

NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed: no CORS rule of the bucket allows its Origin, "
               "Access-Control-Request-Method and Access-Control-Request-Headers.")


# --- the configuration API ---------------------------------------------------------------------

async def put_bucket_cors(req: OssRequest) -> web.Response:
    await config.put_cors(req.storage, req.bucket, parse(await req.read_small_body(MAX_CORS_BODY)))
    return empty_response()


async def get_bucket_cors(req: OssRequest) -> web.Response:
    return xml_response(render(await config.get_cors(req.storage, req.bucket)))


async def delete_bucket_cors(req: OssRequest) -> web.Response:
    await config.delete_cors(req.storage, req.bucket)
    return empty_response(status=204)


def parse(body: bytes) -> CorsConfiguration:
    root = wire.parse(body, "CORSConfiguration")
    return CorsConfiguration(tuple(_rule(node) for node in children(root, "CORSRule")),
                             response_vary=_response_vary(child_text(root, "ResponseVary")))


def _rule(node: Element) -> CorsRule:
    def texts(tag: str) -> tuple[str, ...]:
        return tuple(wire.restore_text(c.text).strip() for c in children(node, tag))

    max_age = child_text(node, "MaxAgeSeconds")
    seconds = None
    if max_age is not None:
        seconds = decimal(max_age.strip())
        if seconds is None:
            raise InvalidArgument("MaxAgeSeconds must be a non-negative integer.", name="MaxAgeSeconds",
                                  value=max_age)
    return CorsRule(allowed_origins=texts("AllowedOrigin"), allowed_methods=texts("AllowedMethod"),
                    allowed_headers=texts("AllowedHeader"), expose_headers=texts("ExposeHeader"),
                    max_age_seconds=seconds)


def _response_vary(text: str | None) -> bool:
    if text is None:
        return False
    value = text.strip().lower()  # oss2 writes Python's True/False lower-cased, others may not
    if value not in ("true", "false"):
        raise InvalidArgument("ResponseVary must be true or false.", name="ResponseVary", value=text)
    return value == "true"


def render(cors: CorsConfiguration) -> Xml:
    return element(
        "CORSConfiguration",
        *(element("CORSRule",
                  *elements("AllowedOrigin", rule.allowed_origins),
                  *elements("AllowedMethod", rule.allowed_methods),
                  *elements("AllowedHeader", rule.allowed_headers),
                  *elements("ExposeHeader", rule.expose_headers),
                  leaf("MaxAgeSeconds", rule.max_age_seconds) if rule.max_age_seconds is not None else None)
          for rule in cors.rules),
        leaf("ResponseVary", cors.response_vary),
    )


# --- the preflight -----------------------------------------------------------------------------

async def preflight(req: OssRequest) -> web.Response:
    """``OPTIONS /bucket[/key]``: the first rule matching Origin, Access-Control-Request-Method and
    Access-Control-Request-Headers decides; no match is 403 AccessForbidden."""
    origin = req.header("Origin")
    method = req.header("Access-Control-Request-Method")
    await get_bucket(req.storage, req.bucket)
    if not origin or not method:
        raise OssError(403, "AccessForbidden", "CORSResponse: Missing the Origin or Access-Control-Request-Method "
                                               "header of a preflight request.")
    cors = await config.find_cors(req.storage, req.bucket)
    if cors is None:
        raise OssError(403, "AccessForbidden", NOT_ENABLED)
    requested = requested_headers(req.header("Access-Control-Request-Headers"))
    rule = cors.first_match(origin, method, requested)
    if rule is None:
        raise OssError(403, "AccessForbidden", NOT_ALLOWED)
    headers = grant(rule, origin)
    if requested:
        headers["Access-Control-Allow-Headers"] = ", ".join(requested)
    if cors.response_vary:
        headers["Vary"] = "Origin"
    return web.Response(status=200, headers=headers)


def requested_headers(value: str | None) -> list[str]:
    return [h.strip() for h in (value or "").split(",") if h.strip()]


def grant(rule: CorsRule, origin: str) -> dict[str, str]:
    """The Access-Control-* headers that let ``origin`` use the answer under ``rule``."""
    headers = {
        "Access-Control-Allow-Origin": "*" if "*" in rule.allowed_origins else origin,
        "Access-Control-Allow-Methods": ", ".join(rule.allowed_methods),
    }
    if rule.expose_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose_headers)
    if rule.max_age_seconds is not None:
        headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    return headers


# --- the answers to actual requests ------------------------------------------------------------

class ResponseCors:
    """Adds the Access-Control-* headers (and ``Vary: Origin``) to the answers to requests on a
    bucket, errors included: a browser's script may then read why it was refused. (A preflight's
    own answer already has its headers; no rule names its method, so only ``Vary`` is added, to
    its refusals too.)"""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._vary: dict[str, tuple[bool, float]] = {}

    async def decorate(self, http: web.BaseRequest, bucket: str, response: web.StreamResponse) -> None:
        if not bucket:
            return
        try:
            origin = http.headers.get("Origin")
            if origin:
                await self._with_origin(http.method, origin, bucket, response)
            elif await self._vary_without_origin(bucket):
                response.headers["Vary"] = "Origin"
        except Exception:
            # The answer stands without CORS headers: a browser refuses it, nothing else breaks.
            log.exception("CORS headers for bucket %r could not be added", bucket)

    async def _with_origin(self, method: str, origin: str, bucket: str, response: web.StreamResponse) -> None:
        cors = await config.find_cors(self.storage, bucket)
        self._remember(bucket, cors)
        if cors is None:
            return
        if cors.response_vary:
            response.headers["Vary"] = "Origin"
        rule = cors.first_match(origin, method)
        if rule is not None:
            response.headers.update(grant(rule, origin))

    async def _vary_without_origin(self, bucket: str) -> bool:
        cached = self._vary.get(bucket)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return self._remember(bucket, await config.find_cors(self.storage, bucket))

    def _remember(self, bucket: str, cors: CorsConfiguration | None) -> bool:
        vary = cors is not None and cors.response_vary
        if len(self._vary) >= VARY_CACHE_ENTRIES:
            self._vary.clear()
        self._vary[bucket] = (vary, time.monotonic() + VARY_CACHE_SECONDS)
        return vary
