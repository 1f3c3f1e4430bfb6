"""Which OSS operation each request shape is routed to: the names the request metrics use."""

from __future__ import annotations

import pytest

from tessera.api.oss.router import OPERATIONS, UNKNOWN_OPERATION, operation_name, route
from tessera.api.oss.target import parse_target

COPY = {"x-oss-copy-source": "/b/source"}
FORM = {"Content-Type": "multipart/form-data; boundary=x"}
ROUTES = [
    ("GET", "/", {}, "ListBuckets"),
    ("PUT", "/b", {}, "PutBucket"),
    ("DELETE", "/b", {}, "DeleteBucket"),
    ("HEAD", "/b", {}, "HeadBucket"),
    ("GET", "/b?bucketInfo", {}, "GetBucketInfo"),
    ("GET", "/b?location", {}, "GetBucketLocation"),
    ("GET", "/b?acl", {}, "GetBucketAcl"),
    ("PUT", "/b?acl", {}, "PutBucketAcl"),
    ("GET", "/b?stat", {}, "GetBucketStat"),
    ("GET", "/b?lifecycle", {}, "GetBucketLifecycle"),
    ("PUT", "/b?lifecycle", {}, "PutBucketLifecycle"),
    ("DELETE", "/b?lifecycle", {}, "DeleteBucketLifecycle"),
    ("GET", "/b?cors", {}, "GetBucketCors"),
    ("PUT", "/b?cors", {}, "PutBucketCors"),
    ("DELETE", "/b?cors", {}, "DeleteBucketCors"),
    ("OPTIONS", "/b/k", {}, "Options"),
    ("OPTIONS", "/b", {}, "Options"),
    ("OPTIONS", "/b/k?uploadId=U&partNumber=1", {}, "Options"),
    ("POST", "/b", FORM, "PostObject"),
    ("GET", "/b", {}, "ListObjects"),
    ("GET", "/b?list-type=2", {}, "ListObjectsV2"),
    ("POST", "/b?delete", {}, "DeleteMultipleObjects"),
    ("GET", "/b?uploads", {}, "ListMultipartUploads"),
    ("PUT", "/b/k", {}, "PutObject"),
    ("PUT", "/b/k", COPY, "CopyObject"),
    ("GET", "/b/k", {}, "GetObject"),
    ("HEAD", "/b/k", {}, "HeadObject"),
    ("HEAD", "/b/k?objectMeta", {}, "GetObjectMeta"),
    ("DELETE", "/b/k", {}, "DeleteObject"),
    ("GET", "/b/k?tagging", {}, "GetObjectTagging"),
    ("PUT", "/b/k?tagging", {}, "PutObjectTagging"),
    ("DELETE", "/b/k?tagging", {}, "DeleteObjectTagging"),
    ("POST", "/b/k?uploads", {}, "InitiateMultipartUpload"),
    ("PUT", "/b/k?partNumber=1&uploadId=U", {}, "UploadPart"),
    ("PUT", "/b/k?partNumber=1&uploadId=U", COPY, "UploadPartCopy"),
    ("POST", "/b/k?uploadId=U", {}, "CompleteMultipartUpload"),
    ("DELETE", "/b/k?uploadId=U", {}, "AbortMultipartUpload"),
    ("GET", "/b/k?uploadId=U", {}, "ListParts"),
    ("PUT", "/b/k?acl", {}, "PutObjectAcl"),
    ("GET", "/b/k?acl", {}, "GetObjectAcl"),
    ("PUT", "/b/k?symlink", {}, "PutSymlink"),
    ("GET", "/b/k?symlink", {}, "GetSymlink"),
    ("POST", "/b/k?append&position=0", {}, "AppendObject"),
    ("POST", "/b/k?position=0&append", {}, "AppendObject"),
    ("POST", "/b/k?restore", {}, "RestoreObject"),
    ("POST", "/b/k?cleanRestoredObject", {}, "CleanRestoredObject"),
    # Refusals and sub-resources Tessera does not serve.
    ("POST", "/", {}, UNKNOWN_OPERATION),
    ("PATCH", "/b/k", {}, UNKNOWN_OPERATION),
    ("GET", "/b?website", {}, UNKNOWN_OPERATION),
    ("POST", "/b?cors", {}, UNKNOWN_OPERATION),
    ("POST", "/b", {}, UNKNOWN_OPERATION),
    ("POST", "/b?acl", FORM, UNKNOWN_OPERATION),
    ("POST", "/b/k", FORM, UNKNOWN_OPERATION),
    ("OPTIONS", "/", {}, UNKNOWN_OPERATION),
    ("POST", "/b/k?lifecycle", {}, UNKNOWN_OPERATION),
    ("GET", "/b?tagging", {}, UNKNOWN_OPERATION),
    ("GET", "/?regions", {}, UNKNOWN_OPERATION),
    ("GET", "/b/k?restore", {}, UNKNOWN_OPERATION),
    ("POST", "/b/k?restore&cleanRestoredObject", {}, UNKNOWN_OPERATION),
    ("POST", "/b?restore", {}, UNKNOWN_OPERATION),
    ("GET", "/b/k?response-content-type=text/plain", {}, "GetObject"),
    ("GET", "/b?list-type=2&continuation-token=x", {}, "ListObjectsV2"),
]

# Object sub-resources Tessera does not serve must never reach PutObject, GetObject, DeleteObject
# (an object ACL PUT once replaced the object with an empty one).
MISROUTABLE = [
    (method, f"/b/k?{parameter}", headers)
    for parameter in ("acl", "symlink", "restore", "append&position=0", "versionId=v1", "x-oss-process=image/resize",
                      "uploads", "objectMeta", "callback=e30", "cors", "website", "worm", "legalHold", "retention")
    for method, headers in (("PUT", {}), ("PUT", COPY), ("GET", {}), ("HEAD", {}), ("DELETE", {}), ("POST", {}))
]


@pytest.mark.parametrize(("method", "path", "headers", "operation"), ROUTES)
def test_each_request_shape_names_its_operation(method: str, path: str, headers: dict[str, str],
                                                operation: str) -> None:
    assert operation_name(route(method, parse_target(path, "h", None), headers)) == operation


def test_every_named_operation_is_routed() -> None:
    assert set(OPERATIONS.values()) == {name for *_, name in ROUTES if name != UNKNOWN_OPERATION}


def test_append_with_another_sub_resource_is_refused() -> None:
    for extra in ("acl", "uploadId=U", "tagging", "symlink"):
        handler = route("POST", parse_target(f"/b/k?append&position=0&{extra}", "h", None), {})
        assert operation_name(handler) == UNKNOWN_OPERATION


@pytest.mark.parametrize(("method", "path", "headers"), MISROUTABLE)
def test_unserved_sub_resources_are_refused_not_served_as_plain_object_operations(
        method: str, path: str, headers: dict[str, str]) -> None:
    target = parse_target(path, "h", None)
    handler = route(method, target, headers)
    allowed = {("POST", "uploads"), ("HEAD", "objectMeta"), ("PUT", "acl"), ("GET", "acl"), ("PUT", "symlink"),
               ("GET", "symlink"), ("POST", "append"), ("POST", "restore")}
    if (method, target.query[0][0]) in allowed:
        return
    assert operation_name(handler) == UNKNOWN_OPERATION
