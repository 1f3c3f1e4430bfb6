"""Part Management: a bucket's incomplete uploads as the console shows them — listed in any
order a page at a time, totalled, and deleted — through the same abort path as
AbortMultipartUpload (``multipart.abort_locked``). Delete All is a job (``tessera.core.jobs``).

Pages are keyset-paged: a cursor names the last (or first) upload shown by its sort value and
upload ID, so a deep page costs what the first one does, and uploads added or removed meanwhile
never make a page repeat or skip one that stayed (docs/console.md, Part Management).
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.errors import InvalidArgument, NoSuchUpload
from tessera.core.metering import PART, UPLOAD, BucketUsage, Tally
from tessera.core.models import MAX_PART_NUMBER, Part
from tessera.core.multipart import abort_locked
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import part_management as rows
from tessera.meta import uploads as upload_rows
from tessera.meta import usage as usage_rows

SORTS = tuple(rows.SORT_COLUMNS)  # key, initiated, last_part, parts, size
MAX_LIMIT = 1000
# A listing under a prefix counts its matches up to this many (an index range of that length:
# tens of milliseconds); beyond it the listing says "more than", and the confirmation before a
# deletion counts them all (totals()).
PREFIX_COUNT_LIMIT = 3000
DELETE_BATCH = 200  # uploads per transaction when deleting
_TEXT_SORTS = frozenset({"key"})


@dataclass(frozen=True)
class UploadSummary:
    """One incomplete upload as a row of Part Management."""

    upload_id: str
    key: str
    initiated_ms: int
    last_part_ms: int | None  # None: no part yet
    parts: int
    bytes: int
    storage_class: str
    initiator: str
    cost_so_far: float  # what its parts have cost since each was uploaded
    monthly_cost: float  # what keeping them costs a month


@dataclass(frozen=True)
class PartTotals:
    uploads: int
    parts: int
    bytes: int
    exact: bool = True  # False: a listing's prefix matched more than PREFIX_COUNT_LIMIT uploads (a lower bound)


@dataclass(frozen=True)
class UploadsPage:
    entries: list[UploadSummary]
    next_cursor: str | None
    previous_cursor: str | None
    totals: PartTotals  # every upload the listing covers (the bucket, or the prefix)


@dataclass(frozen=True)
class Freed:
    """What a deletion freed; ``missing`` are the requested IDs that were already gone."""

    uploads: int
    parts: int
    bytes: int
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cursor:
    """A position in one ordering: after (``backwards``: before) the upload with this sort
    value and ID."""

    sort: str
    descending: bool
    value: Any
    upload_id: str
    backwards: bool = False


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([1, cursor.sort, cursor.descending, cursor.backwards, cursor.value, cursor.upload_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, *, sort: str, descending: bool) -> Cursor:
    """The cursor ``text`` stands for; InvalidArgument if it is not one of ours or belongs to
    another ordering (a client must start over when it changes the sort)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, c_sort, c_desc, backwards, value, upload_id = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidArgument("The cursor is not valid; start from the first page.", name="cursor",
                              value=text[:64]) from None
    expected_type = str if c_sort in _TEXT_SORTS else int
    if (version != 1 or c_sort not in SORTS or not isinstance(c_desc, bool) or not isinstance(backwards, bool)
            or type(value) is not expected_type or not isinstance(upload_id, str) or len(upload_id) > 64):
        raise InvalidArgument("The cursor is not valid; start from the first page.", name="cursor",
                              value=text[:64])
    if (c_sort, c_desc) != (sort, descending):
        raise InvalidArgument("The cursor belongs to another sort order; start from the first page.",
                              name="cursor", value=text[:64])
    return Cursor(c_sort, c_desc, value, upload_id, backwards)


def check_sort(sort: str) -> str:
    if sort not in SORTS:
        raise InvalidArgument(f"Sort by one of {', '.join(SORTS)}.", name="sort", value=sort[:64])
    return sort


async def list_incomplete(storage: Storage, bucket_name: str, *, prefix: str = "", sort: str = "initiated",
                          descending: bool = False, cursor: str | None = None, limit: int = 100) -> UploadsPage:
    """One page of the bucket's incomplete uploads under ``prefix`` in the chosen order."""
    check_sort(sort)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"The limit must be between 1 and {MAX_LIMIT}.", name="limit", value=str(limit))
    position = decode_cursor(cursor, sort=sort, descending=descending) if cursor else None
    backwards = position is not None and position.backwards
    async with storage.db.read(offloaded=True) as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        whole = await _totals(conn, bucket.bucket_id)
        totals = whole
        walk = False
        if prefix:
            counted = await rows.counts(conn, bucket.bucket_id, prefix=prefix, up_to=PREFIX_COUNT_LIMIT)
            exact = counted.uploads <= PREFIX_COUNT_LIMIT
            totals = PartTotals(min(counted.uploads, PREFIX_COUNT_LIMIT), counted.parts, counted.bytes, exact)
            walk = sort != "key" and counted.uploads > _walk_above(whole.uploads, limit)
        found = await rows.page(conn, bucket.bucket_id, sort=sort, descending=descending, prefix=prefix,
                                position=(position.value, position.upload_id) if position else None,
                                backwards=backwards, limit=limit + 1, prefix_as_filter=walk)
        now = storage.clock()
    more = len(found) > limit
    shown = (found[1:] if backwards else found[:limit]) if more else found

    def at(row: rows.UploadRow, back: bool) -> str:
        return encode_cursor(Cursor(sort, descending, row.sort_value, row.upload_id, back))

    has_next = bool(shown) and (more if not backwards else True)
    has_previous = bool(shown) and (more if backwards else position is not None)
    return UploadsPage(
        entries=[_summary(storage, r, now) for r in shown],
        next_cursor=at(shown[-1], False) if has_next else None,
        previous_cursor=at(shown[0], True) if has_previous else None,
        totals=totals,
    )


def _walk_above(bucket_uploads: int, limit: int) -> int:
    """How many uploads a prefix must match for a page in another order than the key's to walk
    that order's index (filtering on the prefix) rather than sort the prefix's matches: reading
    about ``limit × bucket_uploads / matches`` index entries beats sorting ``matches`` rows once
    matches pass √(limit × bucket_uploads)."""
    return min(PREFIX_COUNT_LIMIT, max(1000, math.isqrt(limit * max(bucket_uploads, 1))))


def _summary(storage: Storage, row: rows.UploadRow, now_ms: int) -> UploadSummary:
    # Σ size × (now − uploaded at) = part_bytes × now − Σ size × uploaded at (the counter).
    byte_ms = max(0.0, row.part_bytes * float(now_ms) - row.part_uploaded_byte_ms)
    return UploadSummary(
        upload_id=row.upload_id, key=row.key, initiated_ms=row.initiated_ms, last_part_ms=row.last_part_ms,
        parts=row.part_count, bytes=row.part_bytes, storage_class=row.storage_class, initiator=row.initiator,
        cost_so_far=storage.prices.cost(row.storage_class, round(byte_ms)),
        monthly_cost=storage.prices.monthly(row.storage_class, row.part_bytes),
    )


async def _totals(conn: AsyncConnection, bucket_id: int, *, prefix: str = "", upload_ids: list[str] | None = None) -> PartTotals:
    if upload_ids is None and not prefix:
        # The whole bucket: its usage counters, kept with every change — no scan.
        counters = BucketUsage({(r.storage_class, r.kind): Tally(r.count, r.bytes, r.billed_bytes)
                                for r in await usage_rows.for_bucket(conn, bucket_id)})
        part_tally = counters.get(None, PART)
        return PartTotals(counters.get(None, UPLOAD).count, part_tally.count, part_tally.bytes)
    # A prefix or a selection: one index range over the uploads' own counters, no part rows
    # (for a prefix, as many index entries as uploads match it).
    counted = await rows.counts(conn, bucket_id, prefix=prefix, upload_ids=upload_ids)
    return PartTotals(counted.uploads, counted.parts, counted.bytes)


async def totals(storage: Storage, bucket_name: str, *, upload_ids: list[str] | None = None,
                 prefix: str | None = None) -> PartTotals:
    """How many uploads, parts and bytes a deletion of ``upload_ids`` (or of everything under
    ``prefix``; neither: the whole bucket) would free now."""
    async with storage.db.read(offloaded=True) as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        return await _totals(conn, bucket.bucket_id, prefix=prefix or "", upload_ids=upload_ids)


async def delete_uploads(storage: Storage, bucket_name: str, upload_ids: list[str]) -> Freed:
    """Abort these uploads of the bucket, ``DELETE_BATCH`` to a transaction; IDs that are not
    (or no longer) incomplete uploads of the bucket are reported in ``missing``."""
    wanted = list(dict.fromkeys(upload_ids))
    freed_uploads = freed_parts = freed_bytes = 0
    found: set[str] = set()
    for start in range(0, len(wanted), DELETE_BATCH):
        async with storage.db.write() as conn:
            bucket = await bucket_rows.get(conn, bucket_name, lock="share")
            locked = await rows.lock_in_bucket(conn, bucket.bucket_id, wanted[start : start + DELETE_BATCH])
            released = await abort_locked(conn, [r.upload_id for r in locked])
        await storage.free(released)
        found.update(r.upload_id for r in locked)
        freed_uploads += len(locked)
        freed_parts += sum(r.part_count for r in locked)
        freed_bytes += sum(r.part_bytes for r in locked)
    return Freed(freed_uploads, freed_parts, freed_bytes, [u for u in wanted if u not in found])


@dataclass(frozen=True)
class UploadParts:
    """A page of one upload's parts, in part-number order."""

    upload: UploadSummary
    parts: list[Part]
    next_part_number_marker: int | None


async def upload_parts(storage: Storage, bucket_name: str, upload_id: str, *, after_number: int = 0,
                       limit: int = 100) -> UploadParts:
    """The upload (as a Part Management row) and up to ``limit`` of its parts after ``after_number``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"The limit must be between 1 and {MAX_LIMIT}.", name="limit", value=str(limit))
    if not 0 <= after_number <= MAX_PART_NUMBER:
        raise InvalidArgument("The part number marker is out of range.", name="after", value=str(after_number))
    async with storage.db.read(offloaded=True) as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        row = await rows.one(conn, bucket.bucket_id, upload_id)
        if row is None:
            raise NoSuchUpload(UploadId=upload_id)
        found = await upload_rows.parts_page(conn, upload_id, after_number=after_number, limit=limit + 1)
    shown = found[:limit]
    return UploadParts(_summary(storage, row, storage.clock()), shown,
                       shown[-1].part_number if len(found) > limit else None)
