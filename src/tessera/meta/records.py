"""Turning rows into domain records."""

from __future__ import annotations

from typing import Any

from tessera.core.models import Bucket, ObjectAttributes, ObjectInfo, Part, Upload


def bucket(row: Any) -> Bucket:
    return Bucket(
        bucket_id=row.bucket_id,
        name=row.name,
        created_ms=row.created_ms,
        storage_class=row.storage_class,
        acl=row.acl,
        data_redundancy=row.data_redundancy,
        owner=row.owner,
    )


def attributes(row: Any) -> ObjectAttributes:
    return ObjectAttributes(
        content_type=row.content_type,
        storage_class=row.storage_class,
        headers=dict(row.headers or {}),
        user_meta=dict(row.user_meta or {}),
        tags=dict(row.tags or {}),
        acl=row.acl,
    )


def attribute_columns(attrs: ObjectAttributes) -> dict[str, Any]:
    return {
        "content_type": attrs.content_type,
        "storage_class": attrs.storage_class,
        "headers": dict(attrs.headers),
        "user_meta": dict(attrs.user_meta),
        "tags": dict(attrs.tags),
        "acl": attrs.acl,
    }


def object_info(bucket_name: str, row: Any) -> ObjectInfo:
    return ObjectInfo(
        bucket=bucket_name,
        key=row.key,
        size=row.size,
        etag=row.etag,
        crc64=row.crc64,
        content_md5=row.content_md5,
        attributes=attributes(row),
        object_type=row.object_type,
        last_modified_ms=row.last_modified_ms,
        blob_id=row.blob_id,
        upload_id=row.upload_id,
        transitioned_ms=row.transitioned_ms,
        symlink_target=row.symlink_target,
    )


def object_columns(info: ObjectInfo) -> dict[str, Any]:
    """The row values of an object, minus its bucket and key."""
    return {
        "size": info.size,
        "etag": info.etag,
        "crc64": info.crc64,
        "content_md5": info.content_md5,
        **attribute_columns(info.attributes),
        "object_type": info.object_type,
        "last_modified_ms": info.last_modified_ms,
        "blob_id": info.blob_id,
        "upload_id": info.upload_id,
        "symlink_target": info.symlink_target,
    }


def upload(bucket_name: str, row: Any) -> Upload:
    return Upload(
        upload_id=row.upload_id,
        bucket=bucket_name,
        key=row.key,
        initiated_ms=row.initiated_ms,
        initiator=row.initiator,
        attributes=attributes(row),
    )


def part(row: Any) -> Part:
    return Part(
        part_number=row.part_number,
        size=row.size,
        etag=row.etag,
        crc64=row.crc64,
        blob_id=row.blob_id,
        last_modified_ms=row.last_modified_ms,
    )
