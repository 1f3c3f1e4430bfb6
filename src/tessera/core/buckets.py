"""Bucket operations."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tessera.core.errors import BucketAlreadyExists, BucketNotEmpty, InvalidArgument
from tessera.core.metering import OBJECT, PART, UPLOAD, BucketUsage, Tally
from tessera.core.models import BUCKET_ACLS, Bucket
from tessera.core.names import check_bucket_name, check_storage_class
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import usage as usage_rows


def check_acl(acl: str) -> str:
    if acl not in BUCKET_ACLS:
        raise InvalidArgument(f"Unsupported ACL {acl!r}.", name="x-oss-acl", value=acl)
    return acl


async def create_bucket(storage: Storage, name: str, *, owner: str, storage_class: str = "Standard",
                        acl: str = "private", data_redundancy: str = "LRS") -> Bucket:
    check_bucket_name(name)
    storage_class = check_storage_class(storage_class)
    check_acl(acl)
    if data_redundancy not in ("LRS", "ZRS"):
        raise InvalidArgument(f"Unsupported DataRedundancyType {data_redundancy!r}.",
                              name="DataRedundancyType", value=data_redundancy)
    async with storage.db.write() as conn:
        created = await bucket_rows.insert(
            conn, name, created_ms=storage.clock(), storage_class=storage_class, acl=acl,
            data_redundancy=data_redundancy, owner=owner,
        )
        if not created:
            raise BucketAlreadyExists(BucketName=name)
        bucket = await bucket_rows.find(conn, name)
    assert bucket is not None
    return bucket


async def get_bucket(storage: Storage, name: str) -> Bucket:
    async with storage.db.read() as conn:
        return await bucket_rows.get(conn, name)


RECENT_SECONDS = 5.0


async def recent_bucket(storage: Storage, name: str) -> Bucket:
    """The bucket as it was at most ``RECENT_SECONDS`` ago, for the checks a write makes before
    it reads a body (the bucket exists, the storage class asked for is valid). Safe there only:
    the write's own transaction reads the bucket again, so a bucket deleted meanwhile, by any
    process, still fails the write with NoSuchBucket. A missing bucket is never remembered."""
    now = time.monotonic()
    remembered = storage.recent_buckets.get(name)
    if remembered is not None and remembered[1] > now:
        return remembered[0]
    bucket = await get_bucket(storage, name)
    storage.recent_buckets[name] = (bucket, now + RECENT_SECONDS)
    return bucket


async def set_bucket_acl(storage: Storage, name: str, acl: str) -> None:
    check_acl(acl)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, name, lock="update")
        await bucket_rows.set_acl(conn, bucket.bucket_id, acl)


async def delete_bucket(storage: Storage, name: str) -> None:
    """Refused while any object or in-progress multipart upload remains."""
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, name, lock="update")
        has_objects, uploads = await bucket_rows.contents(conn, bucket.bucket_id)
        if has_objects or uploads:
            reasons = []
            if has_objects:
                reasons.append("it still has objects")
            if uploads:
                reasons.append(
                    f"{uploads} multipart upload{'s' if uploads != 1 else ''} in progress "
                    "(abort them, or delete their parts, first)"
                )
            raise BucketNotEmpty(
                f"The bucket you tried to delete is not empty: {' and '.join(reasons)}.", BucketName=name
            )
        await bucket_rows.delete(conn, bucket.bucket_id)
    storage.recent_buckets.pop(name, None)


async def list_buckets(storage: Storage, *, prefix: str, marker: str, max_keys: int,
                       owner: str | None = None) -> tuple[list[Bucket], bool]:
    """A page of buckets; only ``owner``'s when given (None: every bucket, for root keys)."""
    async with storage.db.read() as conn:
        found = await bucket_rows.list_all(conn, prefix=prefix, marker=marker, limit=max_keys + 1, owner=owner)
    return found[:max_keys], len(found) > max_keys


async def bucket_usage(storage: Storage, name: str) -> BucketUsage:
    """The bucket's exact usage counters (kept in the same transactions as every change)."""
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, name)
        rows = await usage_rows.for_bucket(conn, bucket.bucket_id)
    return BucketUsage({(r.storage_class, r.kind): Tally(r.count, r.bytes, r.billed_bytes) for r in rows})


@dataclass(frozen=True)
class BucketOverview:
    """A bucket with what it holds and what that costs a month (the usage counters)."""

    bucket: Bucket
    usage: BucketUsage
    monthly_cost: float

    @property
    def objects(self) -> Tally:
        return self.usage.get(None, OBJECT)

    @property
    def parts(self) -> Tally:
        return self.usage.get(None, PART)

    @property
    def uploads(self) -> int:
        return self.usage.get(None, UPLOAD).count


async def bucket_overviews(storage: Storage, *, owner: str | None = None, limit: int = 1000) -> list[BucketOverview]:
    """The first ``limit`` buckets by name (only ``owner``'s when given), in two queries."""
    async with storage.db.read() as conn:
        found = await bucket_rows.list_all(conn, prefix="", marker="", limit=limit, owner=owner)
        rows = await usage_rows.for_buckets(conn, [b.bucket_id for b in found]) if found else []
    usages: dict[int, BucketUsage] = {b.bucket_id: BucketUsage() for b in found}
    for r in rows:
        usages[r.bucket_id].tallies[(r.storage_class, r.kind)] = Tally(r.count, r.bytes, r.billed_bytes)
    return [BucketOverview(b, usages[b.bucket_id], _monthly_cost(storage, usages[b.bucket_id])) for b in found]


def _monthly_cost(storage: Storage, usage: BucketUsage) -> float:
    return sum(storage.prices.monthly(storage_class, tally.billed_bytes)
               for (storage_class, kind), tally in usage.tallies.items() if kind in (OBJECT, PART))
