"""Removing objects, incomplete multipart uploads and buckets.

First a plan — exactly what will go, from complete listings, filtered by name — that can be
shown, confirmed or merely printed (a dry run); then its execution: objects in quiet
DeleteMultipleObjects batches of at most 1000 keys, uploads aborted a few at a time, the bucket
last. Bytes freed are those the plan listed: object sizes from the object listing, part bytes
from ListParts for each upload. What appears after the plan was made is not removed.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

import alibabacloud_oss_v2 as oss

from tessera.client.listing import (
    DEFAULT_JOBS,
    ObjectEntry,
    PartTotals,
    UploadEntry,
    chunks,
    iter_objects,
    iter_uploads,
    iter_uploads_of_key,
    part_totals,
    unquote_etag,
    with_part_totals,
)
from tessera.client.patterns import NameFilter
from tessera.client.session import error_code

BATCH_SIZE = 1000  # DeleteMultipleObjects takes at most 1000 keys (docs/wire.md, Limits and names)

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """What ``rm`` was asked to remove."""

    bucket: str
    key: str  # an object key, or with ``recursive`` a prefix ("" for the whole bucket)
    objects: bool
    uploads: bool
    recursive: bool = False
    bucket_too: bool = False
    name_filter: NameFilter = NameFilter()


@dataclass(frozen=True)
class RemovalPlan:
    bucket: str
    objects: list[ObjectEntry]
    uploads: list[UploadEntry]  # with their parts counted
    remove_bucket: bool = False

    @property
    def object_bytes(self) -> int:
        return sum(entry.size for entry in self.objects)

    @property
    def part_count(self) -> int:
        return sum(upload.parts.count for upload in self.uploads if upload.parts)

    @property
    def part_bytes(self) -> int:
        return sum(upload.parts.size for upload in self.uploads if upload.parts)

    @property
    def is_empty(self) -> bool:
        return not (self.objects or self.uploads or self.remove_bucket)


@dataclass
class RemovalResult:
    objects: int = 0
    object_bytes: int = 0
    uploads: int = 0
    parts: int = 0
    part_bytes: int = 0
    uploads_gone: int = 0  # completed or aborted by someone else after the plan listed them
    bucket_removed: bool = False

    @property
    def freed_bytes(self) -> int:
        return self.object_bytes + self.part_bytes


class RemovalFailed(Exception):
    """A request failed midway; ``done`` is what had been removed by then."""

    def __init__(self, done: RemovalResult, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.done = done
        self.cause = cause


def plan(client: oss.Client, target: Target, *, jobs: int = DEFAULT_JOBS) -> RemovalPlan:
    objects: list[ObjectEntry] = []
    if target.objects:
        if target.recursive:
            objects = [entry for entry in iter_objects(client, target.bucket, target.key)
                       if isinstance(entry, ObjectEntry) and target.name_filter.keeps(entry.key)]
        else:
            single = _head(client, target.bucket, target.key, missing_ok=target.uploads)
            objects = [single] if single else []
    uploads: list[UploadEntry] = []
    if target.uploads:
        listed: Iterable[UploadEntry] = (iter_uploads(client, target.bucket, target.key) if target.recursive
                                         else iter_uploads_of_key(client, target.bucket, target.key))
        uploads = list(with_part_totals(client, target.bucket,
                                        (upload for upload in listed if target.name_filter.keeps(upload.key)),
                                        jobs=jobs))
    return RemovalPlan(target.bucket, objects, uploads, remove_bucket=target.bucket_too)


def _head(client: oss.Client, bucket: str, key: str, *, missing_ok: bool) -> ObjectEntry | None:
    try:
        head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    except Exception as error:
        if missing_ok and error_code(error) == "NoSuchKey":
            return None
        raise
    return ObjectEntry(key, head.content_length or 0, head.storage_class, unquote_etag(head.etag),
                       head.last_modified, head.object_type)


def execute(client: oss.Client, plan: RemovalPlan, *, jobs: int = DEFAULT_JOBS) -> RemovalResult:
    """Carry the plan out; on the first failure, stop and raise RemovalFailed with what was done."""
    done = RemovalResult()
    try:
        if len(plan.objects) == 1:
            client.delete_object(oss.DeleteObjectRequest(bucket=plan.bucket, key=plan.objects[0].key))
            _count_objects(done, plan.objects)
        elif plan.objects:
            _concurrently(jobs, [_batch_deleter(client, plan.bucket, batch)
                                 for batch in chunks(plan.objects, BATCH_SIZE)],
                          lambda batch: _count_objects(done, batch))
        _concurrently(jobs, [_aborter(client, plan.bucket, upload) for upload in plan.uploads],
                      lambda outcome: _count_upload(done, *outcome))
        if plan.remove_bucket:
            client.delete_bucket(oss.DeleteBucketRequest(bucket=plan.bucket))
            done.bucket_removed = True
    except Exception as error:
        raise RemovalFailed(done, error) from error
    return done


def abort_upload(client: oss.Client, bucket: str, key: str, upload_id: str) -> PartTotals | None:
    """Abort one upload; what its parts held, if they could be listed first (None if the
    credentials may abort but not list)."""
    try:
        totals: PartTotals | None = part_totals(client, bucket, key, upload_id)
    except Exception as error:
        code = error_code(error)
        if code is None or code == "NoSuchUpload":
            raise
        totals = None
    client.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=bucket, key=key, upload_id=upload_id))
    return totals


def _batch_deleter(client: oss.Client, bucket: str, batch: list[ObjectEntry]) -> Callable[[], list[ObjectEntry]]:
    def delete() -> list[ObjectEntry]:
        # Quiet: OSS answers with nothing for keys it deleted (and a missing key counts as deleted).
        client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
            bucket=bucket, quiet=True, objects=[oss.DeleteObject(key=entry.key) for entry in batch]))
        return batch

    return delete


def _aborter(client: oss.Client, bucket: str, upload: UploadEntry) -> Callable[[], tuple[UploadEntry, bool]]:
    def abort() -> tuple[UploadEntry, bool]:
        try:
            client.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=bucket, key=upload.key,
                                                                          upload_id=upload.upload_id))
        except Exception as error:
            if error_code(error) == "NoSuchUpload":
                return upload, False
            raise
        return upload, True

    return abort


def _count_objects(done: RemovalResult, entries: list[ObjectEntry]) -> None:
    done.objects += len(entries)
    done.object_bytes += sum(entry.size for entry in entries)


def _count_upload(done: RemovalResult, upload: UploadEntry, aborted: bool) -> None:
    if not aborted:
        done.uploads_gone += 1
        return
    done.uploads += 1
    if upload.parts:
        done.parts += upload.parts.count
        done.part_bytes += upload.parts.size


def _concurrently(jobs: int, tasks: list[Callable[[], T]], record: Callable[[T], None]) -> None:
    """Run the tasks ``jobs`` at a time, recording each success; after the first failure, start no
    more, let the running ones finish (and record them), then raise that failure."""
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures: list[Future[T]] = [pool.submit(task) for task in tasks]
        try:
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                error = future.exception()
                if error is None:
                    record(future.result())
                elif failure is None:
                    failure = error
                    _cancel(futures)
        except BaseException:  # Ctrl-C: do not wait for the tasks not yet started
            _cancel(futures)
            raise
    if failure is not None:
        raise failure


def _cancel(futures: list[Future[T]]) -> None:
    for future in futures:
        future.cancel()
