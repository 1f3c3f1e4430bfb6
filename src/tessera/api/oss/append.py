"""AppendObject: ``POST /bucket/key?append&position=N``."""

from __future__ import annotations

from aiohttp import web

from tessera.api.numbers import decimal
from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response
from tessera.core import appends
from tessera.core.errors import InvalidArgument


def _position(req: OssRequest) -> int:
    raw = req.target.get("position")
    value = decimal(raw)
    if value is None:
        raise InvalidArgument("position must be given as a non-negative integer: the length of the object.",
                              name="position", value=raw)
    return value


def _expected_crc64(req: OssRequest) -> int | None:
    raw = req.header("x-oss-hash-crc64ecma")
    if raw is None:
        return None
    value = decimal(raw.strip())
    if value is None or value >= 1 << 64:
        raise InvalidArgument("x-oss-hash-crc64ecma must be an unsigned 64-bit decimal number.",
                              name="x-oss-hash-crc64ecma", value=raw)
    return value


async def append_object(req: OssRequest) -> web.Response:
    appended = await appends.append_object(
        req.storage, req.bucket, req.key, _position(req), req.body(),
        size=req.content_length(), content_md5=req.content_md5(), attrs=req.object_attributes(),
        expected_crc64=_expected_crc64(req),
    )
    info = appended.info
    return empty_response(headers={
        "ETag": wire.quoted_etag(info.etag),
        "x-oss-next-append-position": str(info.size),
        "x-oss-hash-crc64ecma": info.crc64,
    })
