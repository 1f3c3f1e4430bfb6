"""Which handler serves a request — decided from method, bucket/key and sub-resources only."""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping

from aiohttp import web

from tessera.api.oss import buckets, lifecycle, listing, multipart, objects, tagging
from tessera.api.oss.context import OssRequest
from tessera.api.oss.errors import OssError
from tessera.api.oss.target import Target
from tessera.core.buckets import get_bucket

Handler = Callable[[OssRequest], Awaitable[web.StreamResponse]]

# Sub-resources Tessera does not serve yet; named so the answer says so plainly.
_UNSUPPORTED = ("cors", "website", "logging", "referer", "versioning", "policy",
                "encryption", "append", "symlink", "restore", "worm", "replication", "qos",
                "inventory", "versions")


def route(method: str, target: Target, headers: Mapping[str, str]) -> Handler:
    if not target.bucket:
        if method == "GET":
            return buckets.list_buckets
        raise _not_allowed(method)
    for name in _UNSUPPORTED:
        if target.has(name):
            return _unsupported(name)
    if not target.key:
        return _bucket_route(method, target)
    return _object_route(method, target, headers)


def _bucket_route(method: str, target: Target) -> Handler:
    if target.has("tagging"):
        return _unsupported("tagging")  # bucket tags; object tags are served below
    if target.has("lifecycle"):
        routes = {"GET": lifecycle.get_lifecycle, "PUT": lifecycle.put_lifecycle, "DELETE": lifecycle.delete_lifecycle}
        if method not in routes:
            raise _not_allowed(method)
        return routes[method]
    if method == "GET":
        if target.has("acl"):
            return buckets.get_bucket_acl
        if target.has("location"):
            return buckets.get_bucket_location
        if target.has("bucketInfo"):
            return buckets.get_bucket_info
        if target.has("stat"):
            return buckets.get_bucket_stat
        if target.has("uploads"):
            return multipart.list_uploads
        if target.get("list-type") == "2":
            return listing.list_objects_v2
        return listing.list_objects
    if method == "PUT":
        return buckets.put_bucket_acl if target.has("acl") else buckets.put_bucket
    if method == "DELETE":
        return buckets.delete_bucket
    if method == "HEAD":
        return buckets.head_bucket
    if method == "POST" and target.has("delete"):
        return objects.delete_multiple_objects
    raise _not_allowed(method)


def _object_route(method: str, target: Target, headers: Mapping[str, str]) -> Handler:
    if target.has("tagging"):
        routes = {"GET": tagging.get_object_tagging, "PUT": tagging.put_object_tagging,
                  "DELETE": tagging.delete_object_tagging}
        if method not in routes:
            raise _not_allowed(method)
        return routes[method]
    has_upload = target.has("uploadId")
    if method == "PUT":
        if has_upload or target.has("partNumber"):
            return multipart.upload_part_copy if "x-oss-copy-source" in headers else multipart.upload_part
        return objects.copy_object if "x-oss-copy-source" in headers else objects.put_object
    if method == "GET":
        return multipart.list_parts if has_upload else objects.get_object
    if method == "HEAD":
        return objects.get_object_meta if target.has("objectMeta") else objects.head_object
    if method == "POST":
        if target.has("uploads"):
            return multipart.initiate
        if has_upload:
            return multipart.complete
    if method == "DELETE":
        return multipart.abort if has_upload else objects.delete_object
    raise _not_allowed(method)


def _unsupported(name: str) -> Handler:
    async def answer(req: OssRequest) -> web.StreamResponse:
        await get_bucket(req.storage, req.bucket)  # the bucket is checked before the sub-resource
        raise OssError(400, "NotImplemented", f"The '{name}' operation is not supported by Tessera yet.")

    return answer


def _not_allowed(method: str) -> OssError:
    return OssError(405, "MethodNotAllowed", f"The specified method ({method}) is not allowed against this resource.")
