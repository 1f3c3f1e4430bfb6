"""Complete listings through the SDK's paginators — buckets, objects (and directories), incomplete
uploads, parts — and the part totals of many uploads, fetched concurrently.

Every iterator pages until the server says the listing is complete; callers stop early by simply
not asking for more (``itertools.islice``), and pass ``page_size`` so that a short listing costs
one short request.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator, TypeVar

import alibabacloud_oss_v2 as oss

from tessera.client.session import error_code

PAGE_SIZE = 1000  # the most OSS returns per page for objects, uploads and parts
DEFAULT_JOBS = 8  # concurrent ListParts / abort / delete requests (the SDK pools 20 connections)

T = TypeVar("T")


@dataclass(frozen=True)
class BucketEntry:
    name: str
    location: str | None
    storage_class: str | None
    creation_date: datetime.datetime | None


@dataclass(frozen=True)
class ObjectEntry:
    key: str
    size: int
    storage_class: str | None
    etag: str | None
    last_modified: datetime.datetime | None
    object_type: str | None = None


@dataclass(frozen=True)
class DirectoryEntry:
    """A common prefix of a one-level (delimited) listing."""

    prefix: str


@dataclass(frozen=True)
class PartEntry:
    part_number: int
    size: int
    etag: str | None
    last_modified: datetime.datetime | None
    crc64: str | None


@dataclass(frozen=True)
class PartTotals:
    """What an upload's parts hold; ``storage_class`` is the upload's, as ListParts reports it."""

    count: int
    size: int
    storage_class: str | None


@dataclass(frozen=True)
class UploadEntry:
    key: str
    upload_id: str
    initiated: datetime.datetime | None
    parts: PartTotals | None = None  # None until counted


def unquote_etag(etag: str | None) -> str | None:
    """The v2 SDK hands ETags over with their quotes (docs/wire.md, ETags)."""
    return etag.strip('"') if etag else etag


def iter_buckets(client: oss.Client, prefix: str | None = None) -> Iterator[BucketEntry]:
    request = oss.ListBucketsRequest(prefix=prefix or None)
    for page in client.list_buckets_paginator().iter_page(request):
        for bucket in page.buckets or []:
            yield BucketEntry(bucket.name, bucket.location, bucket.storage_class, bucket.creation_date)


def iter_objects(client: oss.Client, bucket: str, prefix: str = "", *, delimited: bool = False,
                 page_size: int = PAGE_SIZE) -> Iterator[ObjectEntry | DirectoryEntry]:
    """Objects under ``prefix`` in key order; with ``delimited``, only one level: deeper keys are
    folded into their directory (a common prefix ending in ``/``)."""
    request = oss.ListObjectsV2Request(bucket=bucket, prefix=prefix or None, delimiter="/" if delimited else None)
    for page in client.list_objects_v2_paginator(limit=min(page_size, PAGE_SIZE)).iter_page(request):
        entries: list[ObjectEntry | DirectoryEntry] = [
            ObjectEntry(item.key, item.size or 0, item.storage_class, unquote_etag(item.etag), item.last_modified,
                        item.object_type)
            for item in page.contents or []
        ]
        entries += [DirectoryEntry(item.prefix) for item in page.common_prefixes or []]
        entries.sort(key=lambda entry: entry.key if isinstance(entry, ObjectEntry) else entry.prefix)
        yield from entries


def iter_uploads(client: oss.Client, bucket: str, prefix: str = "", *,
                 page_size: int = PAGE_SIZE) -> Iterator[UploadEntry]:
    """Incomplete multipart uploads whose key starts with ``prefix``, by key then upload."""
    request = oss.ListMultipartUploadsRequest(bucket=bucket, prefix=prefix or None)
    for page in client.list_multipart_uploads_paginator(limit=min(page_size, PAGE_SIZE)).iter_page(request):
        for upload in page.uploads or []:
            yield UploadEntry(upload.key, upload.upload_id, upload.initiated)


def iter_uploads_of_key(client: oss.Client, bucket: str, key: str) -> Iterator[UploadEntry]:
    """Every incomplete upload of exactly ``key`` (not of longer keys that start with it)."""
    for upload in iter_uploads(client, bucket, key):
        if upload.key != key:
            break  # listed in key order, and ``key`` sorts before every longer key starting with it
        yield upload


def iter_parts(client: oss.Client, bucket: str, key: str, upload_id: str) -> Iterator[tuple[str | None, PartEntry]]:
    """The upload's parts in part-number order, each with the upload's storage class."""
    request = oss.ListPartsRequest(bucket=bucket, key=key, upload_id=upload_id)
    for page in client.list_parts_paginator().iter_page(request):
        for part in page.parts or []:
            yield page.storage_class, PartEntry(part.part_number, part.size or 0, unquote_etag(part.etag),
                                                part.last_modified, part.hash_crc64)


def part_totals(client: oss.Client, bucket: str, key: str, upload_id: str) -> PartTotals:
    """Count and sum an upload's parts (raises the SDK's NoSuchUpload error if it is gone)."""
    request = oss.ListPartsRequest(bucket=bucket, key=key, upload_id=upload_id)
    count = size = 0
    storage_class = None
    for page in client.list_parts_paginator().iter_page(request):
        storage_class = storage_class or page.storage_class
        count += len(page.parts or [])
        size += sum(part.size or 0 for part in page.parts or [])
    return PartTotals(count, size, storage_class)


def with_part_totals(client: oss.Client, bucket: str, uploads: Iterable[UploadEntry], *,
                     jobs: int = DEFAULT_JOBS) -> Iterator[UploadEntry]:
    """The uploads with their parts counted, ``jobs`` ListParts at a time, in the order given.
    An upload completed or aborted since it was listed is left out."""

    def counted(upload: UploadEntry) -> UploadEntry | None:
        try:
            totals = part_totals(client, bucket, upload.key, upload.upload_id)
        except Exception as error:
            if error_code(error) == "NoSuchUpload":
                return None
            raise
        return UploadEntry(upload.key, upload.upload_id, upload.initiated, totals)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for chunk in chunks(uploads, PAGE_SIZE):  # bounded memory, and the first lines come early
            yield from (upload for upload in pool.map(counted, chunk) if upload is not None)
    finally:  # also when the reader stops early or Ctrl-C: start nothing more
        pool.shutdown(wait=True, cancel_futures=True)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
