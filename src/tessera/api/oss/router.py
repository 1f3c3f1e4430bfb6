"""Which handler serves a request — decided from method, bucket/key and sub-resources only.

Routing touches no storage and never fails: a request no operation serves gets a handler that
refuses it, so the refusal, like every answer, comes after authentication.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping

from aiohttp import web

from tessera.api.oss import (acl, append, buckets, cors, lifecycle, listing, multipart, objects, post_object,
                             restore, symlinks, tagging)
from tessera.api.oss.context import OssRequest
from tessera.api.oss.errors import OssError
from tessera.api.oss.target import Target
from tessera.core.buckets import get_bucket

Handler = Callable[[OssRequest], Awaitable[web.StreamResponse]]

# Query parameters that name an OSS resource or change what an operation does: the SDKs sign
# them as sub-resources (docs/compatibility.md, Sub-resources). An operation serves only the ones
# it reads (READS below); a request carrying any other is refused before anything is done, so
# that ``PUT /b/k?acl`` can never be served as PutObject, nor ``DELETE /b/k?symlink`` as
# DeleteObject.
RESOURCE_PARAMETERS = frozenset({
    "accessPoint", "accessPointPolicy", "accessmonitor", "acl", "append", "asyncFetch",
    "bucketArchiveDirectRead", "bucketInfo", "callback", "callback-var", "cleanRestoredObject",
    "cloudboxes", "cname", "comp", "cors", "dataPipeline", "delete", "encryption", "endTime",
    "group", "httpsConfig", "inventory", "inventoryId", "legalHold", "lifecycle", "link", "live",
    "location", "logging", "MetaQuery", "metaQuery", "metadataConfiguration",
    "metadataInventoryTable", "metadataJournalTable", "objectInfo", "objectMeta", "objectWorm",
    "overwriteConfig", "partNumber", "policy", "policyStatus", "position", "publicAccessBlock",
    "qos", "qosInfo", "qosRequester", "quota", "redundancyTransition", "referer", "regionList",
    "regions", "replication", "replicationLocation", "replicationProgress", "requestPayment",
    "requesterQosInfo", "resourceGroup", "resourcePool", "resourcePoolBuckets",
    "resourcePoolInfo", "restore", "retention", "rtc", "seal", "sequential", "startTime",
    "stat", "status", "style", "styleName", "symlink", "tagging", "transferAcceleration",
    "uploadId", "uploads", "userDefinedLogFieldsConfig", "versionId", "versioning", "versions",
    "vod", "website", "worm", "wormExtend", "wormId", "x-oss-access-point-name",
    "x-oss-async-process", "x-oss-process", "x-oss-redundancy-transition-taskid",
    "x-oss-target-redundancy-type", "x-oss-write-get-object-response",
})

# The OSS operation each handler serves: the ``operation`` label of the request metrics, so
# spelled as OSS spells it and kept stable when handlers are renamed.
OPERATIONS: dict[Handler, str] = {
    buckets.list_buckets: "ListBuckets",
    buckets.put_bucket: "PutBucket",
    buckets.delete_bucket: "DeleteBucket",
    buckets.head_bucket: "HeadBucket",
    buckets.get_bucket_info: "GetBucketInfo",
    buckets.get_bucket_location: "GetBucketLocation",
    buckets.get_bucket_acl: "GetBucketAcl",
    buckets.put_bucket_acl: "PutBucketAcl",
    buckets.get_bucket_stat: "GetBucketStat",
    lifecycle.get_lifecycle: "GetBucketLifecycle",
    lifecycle.put_lifecycle: "PutBucketLifecycle",
    lifecycle.delete_lifecycle: "DeleteBucketLifecycle",
    cors.get_bucket_cors: "GetBucketCors",
    cors.put_bucket_cors: "PutBucketCors",
    cors.delete_bucket_cors: "DeleteBucketCors",
    cors.preflight: "Options",
    post_object.post_object: "PostObject",
    listing.list_objects: "ListObjects",
    listing.list_objects_v2: "ListObjectsV2",
    objects.put_object: "PutObject",
    objects.copy_object: "CopyObject",
    objects.get_object: "GetObject",
    objects.head_object: "HeadObject",
    objects.get_object_meta: "GetObjectMeta",
    objects.delete_object: "DeleteObject",
    objects.delete_multiple_objects: "DeleteMultipleObjects",
    tagging.get_object_tagging: "GetObjectTagging",
    tagging.put_object_tagging: "PutObjectTagging",
    tagging.delete_object_tagging: "DeleteObjectTagging",
    multipart.initiate: "InitiateMultipartUpload",
    multipart.upload_part: "UploadPart",
    multipart.upload_part_copy: "UploadPartCopy",
    multipart.complete: "CompleteMultipartUpload",
    multipart.abort: "AbortMultipartUpload",
    multipart.list_uploads: "ListMultipartUploads",
    multipart.list_parts: "ListParts",
    acl.put_object_acl: "PutObjectAcl",
    acl.get_object_acl: "GetObjectAcl",
    symlinks.put_symlink: "PutSymlink",
    symlinks.get_symlink: "GetSymlink",
    append.append_object: "AppendObject",
    restore.restore_object: "RestoreObject",
    restore.clean_restored_object: "CleanRestoredObject",
}
UNKNOWN_OPERATION = "Unknown"

# The resource parameters each operation reads; every other one is refused (see above).
READS: dict[Handler, frozenset[str]] = {
    buckets.get_bucket_info: frozenset({"bucketInfo"}),
    buckets.get_bucket_location: frozenset({"location"}),
    buckets.get_bucket_acl: frozenset({"acl"}),
    buckets.put_bucket_acl: frozenset({"acl"}),
    buckets.get_bucket_stat: frozenset({"stat"}),
    lifecycle.get_lifecycle: frozenset({"lifecycle"}),
    lifecycle.put_lifecycle: frozenset({"lifecycle"}),
    lifecycle.delete_lifecycle: frozenset({"lifecycle"}),
    cors.get_bucket_cors: frozenset({"cors"}),
    cors.put_bucket_cors: frozenset({"cors"}),
    cors.delete_bucket_cors: frozenset({"cors"}),
    # A preflight names the request it stands for, whatever that request's sub-resources.
    cors.preflight: RESOURCE_PARAMETERS,
    objects.delete_multiple_objects: frozenset({"delete"}),
    objects.get_object_meta: frozenset({"objectMeta"}),
    tagging.get_object_tagging: frozenset({"tagging"}),
    tagging.put_object_tagging: frozenset({"tagging"}),
    tagging.delete_object_tagging: frozenset({"tagging"}),
    multipart.initiate: frozenset({"uploads"}),
    multipart.list_uploads: frozenset({"uploads"}),
    multipart.upload_part: frozenset({"uploadId", "partNumber"}),
    multipart.upload_part_copy: frozenset({"uploadId", "partNumber"}),
    multipart.complete: frozenset({"uploadId"}),
    multipart.abort: frozenset({"uploadId"}),
    multipart.list_parts: frozenset({"uploadId"}),
    acl.put_object_acl: frozenset({"acl"}),
    acl.get_object_acl: frozenset({"acl"}),
    symlinks.put_symlink: frozenset({"symlink"}),
    symlinks.get_symlink: frozenset({"symlink"}),
    append.append_object: frozenset({"append", "position"}),
    restore.restore_object: frozenset({"restore"}),
    restore.clean_restored_object: frozenset({"cleanRestoredObject"}),
}

# Handlers that authenticate the request themselves, or need none: the gate lets them through.
# A preflight is never signed by a browser; a PostObject form carries its own signature.
SELF_AUTHENTICATING: frozenset[Handler] = frozenset({cors.preflight, post_object.post_object})


def operation_name(handler: Handler) -> str:
    """The OSS operation a handler serves; "Unknown" for refusals and unsupported ones."""
    return OPERATIONS.get(handler, UNKNOWN_OPERATION)


def route(method: str, target: Target, headers: Mapping[str, str]) -> Handler:
    if method == "OPTIONS" and target.bucket:
        handler = cors.preflight
    elif not target.bucket:
        handler = buckets.list_buckets if method == "GET" else _not_allowed(method)
    elif not target.key:
        handler = _bucket_route(method, target, headers)
    else:
        handler = _object_route(method, target, headers)
    if handler not in OPERATIONS:
        return handler
    reads = READS.get(handler, frozenset())
    for name, _ in target.query:
        if name in RESOURCE_PARAMETERS and name not in reads:
            return _unsupported(name)
    return handler


# Sub-resources whose operations are told apart by the method alone (others allowed: none).
BUCKET_SUB_RESOURCES: dict[str, dict[str, Handler]] = {
    "cors": {"GET": cors.get_bucket_cors, "PUT": cors.put_bucket_cors, "DELETE": cors.delete_bucket_cors},
    "lifecycle": {"GET": lifecycle.get_lifecycle, "PUT": lifecycle.put_lifecycle, "DELETE": lifecycle.delete_lifecycle},
}
OBJECT_SUB_RESOURCES: dict[str, dict[str, Handler]] = {
    "tagging": {"GET": tagging.get_object_tagging, "PUT": tagging.put_object_tagging,
                "DELETE": tagging.delete_object_tagging},
    "acl": {"GET": acl.get_object_acl, "PUT": acl.put_object_acl},
    "symlink": {"GET": symlinks.get_symlink, "PUT": symlinks.put_symlink},
}


def _by_method(method: str, target: Target, table: dict[str, dict[str, Handler]]) -> Handler | None:
    for name, routes in table.items():
        if target.has(name):
            return routes.get(method) or _not_allowed(method)
    return None


def _bucket_route(method: str, target: Target, headers: Mapping[str, str]) -> Handler:
    handler = _by_method(method, target, BUCKET_SUB_RESOURCES)
    if handler is not None:
        return handler
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
    if method == "POST" and post_object.is_form(headers.get("Content-Type")):
        return post_object.post_object
    return _not_allowed(method)


def _object_route(method: str, target: Target, headers: Mapping[str, str]) -> Handler:
    handler = _by_method(method, target, OBJECT_SUB_RESOURCES)
    if handler is not None:
        return handler
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
        if target.has("append"):
            return append.append_object
        if target.has("restore"):
            return restore.restore_object
        if target.has("cleanRestoredObject"):
            return restore.clean_restored_object
    if method == "DELETE":
        return multipart.abort if has_upload else objects.delete_object
    return _not_allowed(method)


def _unsupported(name: str) -> Handler:
    async def answer(req: OssRequest) -> web.StreamResponse:
        if req.bucket:
            await get_bucket(req.storage, req.bucket)  # the bucket is checked before the sub-resource
        raise OssError(400, "NotImplemented", f"The '{name}' operation is not supported by Tessera yet.")

    return answer


def _not_allowed(method: str) -> Handler:
    async def refuse(req: OssRequest) -> web.StreamResponse:
        raise OssError(405, "MethodNotAllowed",
                       f"The specified method ({method}) is not allowed against this resource.")

    return refuse
