"""Domain records: what buckets, objects, uploads and parts are, independent of wire and disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

STORAGE_CLASSES = ("Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive")
BUCKET_ACLS = ("private", "public-read", "public-read-write")
OBJECT_ACLS = ("default", *BUCKET_ACLS)  # default: the bucket's ACL applies
SYMLINK = "Symlink"  # the object type of a symlink

MIN_PART_SIZE = 100 * 1024  # every part but the last, checked at Complete
MAX_PART_NUMBER = 10_000
MAX_PART_SIZE = 5 * 1024**3
MAX_PUT_SIZE = 5 * 1024**3
MAX_CONTENT_TYPE = 255  # characters, as the metadata schema holds it
MAX_APPENDABLE_SIZE = 5 * 1024**3  # an Appendable object, all its appends together

APPENDABLE = "Appendable"  # the object type AppendObject creates


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    secret: str
    created_ms: int
    is_root: bool


@dataclass(frozen=True)
class Bucket:
    bucket_id: int
    name: str
    created_ms: int
    storage_class: str
    acl: str
    data_redundancy: str
    owner: str


@dataclass(frozen=True)
class ObjectAttributes:
    """What a writer chooses for an object (at PutObject, or at InitiateMultipartUpload)."""

    content_type: str = "application/octet-stream"
    storage_class: str = ""  # "" until resolved: the bucket's class is the default
    # Cache-Control, Content-Disposition, Content-Encoding, Expires, as sent.
    headers: dict[str, str] = field(default_factory=dict)
    # x-oss-meta-* names (lower-case, without the prefix) to values.
    user_meta: dict[str, str] = field(default_factory=dict)
    # Object tags (x-oss-tagging, PutObjectTagging), which lifecycle rules can filter by.
    tags: dict[str, str] = field(default_factory=dict)
    # One of OBJECT_ACLS (x-oss-object-acl, PutObjectAcl).
    acl: str = "default"


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    etag: str  # upper-case hex, "-N" suffix for multipart; no quotes
    crc64: str  # unsigned decimal
    content_md5: str | None  # base64, for single-PUT objects only
    attributes: ObjectAttributes
    object_type: str  # Normal | Multipart | Appendable | Symlink
    last_modified_ms: int
    blob_id: str | None
    upload_id: str | None
    transitioned_ms: int | None = None  # when a lifecycle rule moved it to its storage class
    symlink_target: str | None = None  # the key a Symlink names (in the same bucket)


@dataclass(frozen=True)
class AppendSegment:
    """One blob of an Appendable object: its bytes [position, position + size)."""

    position: int
    blob_id: str
    size: int
    crc64: str


@dataclass(frozen=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated_ms: int
    initiator: str
    attributes: ObjectAttributes


@dataclass(frozen=True)
class Part:
    part_number: int
    size: int
    etag: str  # upper-case hex MD5, no quotes
    crc64: str
    blob_id: str
    last_modified_ms: int


@dataclass(frozen=True)
class CompletedUpload:
    bucket: str
    key: str
    upload_id: str
    etag: str
    crc64: str
    size: int


@dataclass(frozen=True)
class PartChoice:
    """One <Part> of a CompleteMultipartUpload request."""

    part_number: int
    etag: str  # as sent by the client; compared without quotes, case-insensitively


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: entries, common prefixes, and where the next page starts."""

    entries: list[T]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str = ""  # key (or prefix) to continue after
    next_upload_id_marker: str = ""
