"""Service and bucket operations: ListBuckets, PutBucket, DeleteBucket, GetBucketInfo,
GetBucketLocation, GetBucketAcl, PutBucketAcl."""

from __future__ import annotations

from aiohttp import web

from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response, xml_response
from tessera.api.oss.wire import element, leaf
from tessera.core import buckets
from tessera.core.metering import OBJECT, PART, UPLOAD
from tessera.core.models import Bucket


def _owner(bucket_owner: str) -> wire.Xml:
    return element("Owner", leaf("ID", bucket_owner), leaf("DisplayName", bucket_owner))


def _endpoints(req: OssRequest) -> tuple[str, str]:
    host = req.http.host
    return host, host


async def list_buckets(req: OssRequest) -> web.Response:
    max_keys = req.int_param("max-keys", default=100, low=1, high=1000)
    prefix, marker = req.target.get("prefix"), req.target.get("marker")
    # A key lists the buckets it owns; a root key, every bucket (docs/compatibility.md, Access control).
    owner = None if req.requester.is_root else req.access_key_id
    found, truncated = await buckets.list_buckets(req.storage, prefix=prefix, marker=marker, max_keys=max_keys,
                                                  owner=owner)
    extranet, intranet = _endpoints(req)
    location = f"oss-{req.storage.region}"
    root = element(
        "ListAllMyBucketsResult",
        leaf("Prefix", prefix),
        leaf("Marker", marker),
        leaf("MaxKeys", max_keys),
        leaf("IsTruncated", truncated),
        leaf("NextMarker", found[-1].name) if truncated else None,
        _owner(req.access_key_id),
        element(
            "Buckets",
            *(
                element(
                    "Bucket",
                    leaf("Name", b.name),
                    leaf("Location", location),
                    leaf("CreationDate", wire.iso_time(b.created_ms)),
                    leaf("ExtranetEndpoint", extranet),
                    leaf("IntranetEndpoint", intranet),
                    leaf("StorageClass", b.storage_class),
                    leaf("Region", req.storage.region),
                )
                for b in found
            ),
        ),
    )
    return xml_response(root)


async def put_bucket(req: OssRequest) -> web.Response:
    body = await req.read_small_body()
    storage_class, redundancy = "Standard", "LRS"
    # oss2 sends no body at all without a BucketCreateConfig (docs/wire.md, Request headers and bodies).
    if body.strip():
        config = wire.parse(body, "CreateBucketConfiguration")
        storage_class = wire.child_text(config, "StorageClass") or storage_class
        redundancy = wire.child_text(config, "DataRedundancyType") or redundancy
    await buckets.create_bucket(
        req.storage, req.bucket, owner=req.access_key_id, storage_class=storage_class,
        acl=req.header("x-oss-acl") or "private", data_redundancy=redundancy,
    )
    return empty_response()


async def delete_bucket(req: OssRequest) -> web.Response:
    await buckets.delete_bucket(req.storage, req.bucket)
    return empty_response(status=204)


async def head_bucket(req: OssRequest) -> web.Response:
    await buckets.get_bucket(req.storage, req.bucket)
    return empty_response()


async def get_bucket_info(req: OssRequest) -> web.Response:
    bucket = await buckets.get_bucket(req.storage, req.bucket)
    extranet, intranet = _endpoints(req)
    root = element(
        "BucketInfo",
        element(
            "Bucket",
            leaf("Name", bucket.name),
            leaf("CreationDate", wire.iso_time(bucket.created_ms)),
            leaf("StorageClass", bucket.storage_class),
            leaf("ExtranetEndpoint", extranet),
            leaf("IntranetEndpoint", intranet),
            leaf("Location", f"oss-{req.storage.region}"),
            leaf("Region", req.storage.region),
            leaf("DataRedundancyType", bucket.data_redundancy),
            _owner(bucket.owner),
            element("AccessControlList", leaf("Grant", bucket.acl)),
            element("ServerSideEncryptionRule", leaf("SSEAlgorithm", "None")),
            leaf("Comment", ""),
        ),
    )
    return xml_response(root)


async def get_bucket_location(req: OssRequest) -> web.Response:
    await buckets.get_bucket(req.storage, req.bucket)
    return xml_response(element("LocationConstraint", text=f"oss-{req.storage.region}"))


def _acl_document(bucket: Bucket) -> wire.Xml:
    return element("AccessControlPolicy", _owner(bucket.owner), element("AccessControlList", leaf("Grant", bucket.acl)))


async def get_bucket_acl(req: OssRequest) -> web.Response:
    bucket = await buckets.get_bucket(req.storage, req.bucket)
    return xml_response(_acl_document(bucket))


async def put_bucket_acl(req: OssRequest) -> web.Response:
    await buckets.set_bucket_acl(req.storage, req.bucket, req.header("x-oss-acl") or "private")
    return empty_response()


# GetBucketStat's per-class element prefixes.
STAT_CLASSES = (("Standard", "Standard"), ("IA", "InfrequentAccess"), ("Archive", "Archive"),
                ("ColdArchive", "ColdArchive"), ("DeepColdArchive", "DeepColdArchive"))


async def get_bucket_stat(req: OssRequest) -> web.Response:
    """Exact and current (OSS's own figures lag by up to an hour). Storage counts objects and
    the parts of incomplete uploads, the bytes actually stored."""
    usage = await buckets.bucket_usage(req.storage, req.bucket)
    objects, parts = usage.get(None, OBJECT), usage.get(None, PART)
    per_class = []
    for storage_class, name in STAT_CLASSES:
        o, p = usage.get(storage_class, OBJECT), usage.get(storage_class, PART)
        per_class += [leaf(f"{name}Storage", o.billed_bytes)]
        if storage_class != "Standard":
            per_class += [leaf(f"{name}RealStorage", o.bytes)]
        per_class += [leaf(f"{name}ObjectCount", o.count), leaf(f"{name}MultipartPartCount", p.count),
                      leaf(f"{name}MultipartPartStorage", p.bytes)]
    root = element(
        "BucketStat",
        leaf("Storage", objects.bytes + parts.bytes),
        leaf("ObjectCount", objects.count),
        leaf("MultipartUploadCount", usage.get(None, UPLOAD).count),
        leaf("LiveChannelCount", 0),
        leaf("MultipartPartCount", parts.count),
        leaf("MultipartPartStorage", parts.bytes),
        leaf("DeleteMarkerCount", 0),
        leaf("LastModifiedTime", req.storage.clock() // 1000),
        *per_class,
    )
    return xml_response(root)
