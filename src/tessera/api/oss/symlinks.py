"""PutSymlink and GetSymlink (GET and HEAD through a symlink are objects.py's)."""

from __future__ import annotations

from urllib.parse import quote, unquote

from aiohttp import web

from tessera.api.oss import wire
from tessera.api.oss.context import META_PREFIX, OssRequest, empty_response
from tessera.core import symlinks
from tessera.core.errors import InvalidArgument

TARGET_HEADER = "x-oss-symlink-target"


async def put_symlink(req: OssRequest) -> web.Response:
    raw = req.header(TARGET_HEADER)
    if not raw:
        raise InvalidArgument("PutSymlink needs the x-oss-symlink-target header.", name=TARGET_HEADER)
    # oss2 URL-encodes the target, v2 sends it as it is: decoding leaves a plain name unchanged
    # (docs/compatibility.md, Symlinks).
    info = await symlinks.put_symlink(
        req.storage, req.bucket, req.key, unquote(raw), req.object_attributes(),
        forbid_overwrite=req.flag("x-oss-forbid-overwrite"),
    )
    return empty_response(headers={"ETag": wire.quoted_etag(info.etag)})


async def get_symlink(req: OssRequest) -> web.Response:
    info = await symlinks.get_symlink(req.storage, req.bucket, req.key)
    assert info.symlink_target is not None
    return empty_response(headers={
        # Encoded as oss2 decodes it; '/' and plain names stay as v2 shows them.
        TARGET_HEADER: quote(info.symlink_target, safe="/"),
        "ETag": wire.quoted_etag(info.etag),
        "Last-Modified": wire.http_time(info.last_modified_ms),
        **{META_PREFIX + name: value for name, value in info.attributes.user_meta.items()},
    })
