"""Object ACLs: PutObjectAcl and GetObjectAcl (the bucket's are in buckets.py)."""

from __future__ import annotations

from aiohttp import web

from tessera.api.oss.context import OssRequest, empty_response, xml_response
from tessera.api.oss.wire import element, leaf
from tessera.core import object_acl
from tessera.core.errors import InvalidArgument


async def put_object_acl(req: OssRequest) -> web.Response:
    acl = req.header("x-oss-object-acl")
    if acl is None:
        raise InvalidArgument("PutObjectAcl needs the x-oss-object-acl header.", name="x-oss-object-acl")
    await object_acl.set_object_acl(req.storage, req.bucket, req.key, acl)
    return empty_response()


async def get_object_acl(req: OssRequest) -> web.Response:
    bucket, acl = await object_acl.get_object_acl(req.storage, req.bucket, req.key)
    # The same document as GetBucketAcl's; Grant is "default" when the bucket's ACL applies.
    root = element(
        "AccessControlPolicy",
        element("Owner", leaf("ID", bucket.owner), leaf("DisplayName", bucket.owner)),
        element("AccessControlList", leaf("Grant", acl)),
    )
    return xml_response(root)
