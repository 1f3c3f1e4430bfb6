"""Storage usage over a time window, from the usage counters and their ledger: exact GB-hours
per bucket × storage class × kind (objects, the parts of incomplete uploads, and early-deletion
charges on lines of their own), stored bytes over time, and the incomplete uploads that hold
part storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tessera.core.clock import format_instant
from tessera.core.metering import (DAY_MS, EARLY_DELETION, GB, HOUR_MS, OBJECT, PART, UPLOAD, UsageLine, accumulate,
                                   integrate)
from tessera.core.models import STORAGE_CLASSES
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import usage as usage_rows


async def storage_usage(storage: Storage, *, start_ms: int, end_ms: int,
                        bucket_name: str | None = None, owner: str | None = None) -> list[UsageLine]:
    """What was stored in [start_ms, end_ms); time after now counts nothing (a bill, not a forecast).
    ``owner``: only the buckets that access key owns (so for every function here)."""
    end_ms = max(start_ms, min(end_ms, storage.clock()))
    async with storage.db.read(offloaded=True) as conn:  # one snapshot: the counters and the ledger agree
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        counters = await usage_rows.counters(conn, bucket_id, owner=owner)
        changes = await usage_rows.ledger_changes(conn, start_ms, end_ms, bucket_id, owner=owner)
        later = await usage_rows.ledger_sums_since(conn, end_ms, bucket_id, owner=owner)
        charges = await usage_rows.early_deletions_between(conn, start_ms, end_ms, bucket_id, owner=owner)
        names = await usage_rows.bucket_names(conn)

    def counter(row) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
        return row.bucket_id, row.storage_class, row.kind

    # The levels at start_ms: the counters now less every change since (the ledger holds every
    # change of the counters from their opening levels on, in the same transactions: meta/usage.py).
    levels = {counter(r): (int(r.billed_bytes), int(r.bytes)) for r in counters if r.kind != UPLOAD}
    spans = [(counter(r), int(r.billed_delta), int(r.bytes_delta)) for r in changes if r.kind != UPLOAD]
    for key, billed, real in spans + [(counter(r), int(r.billed), int(r.bytes)) for r in later if r.kind != UPLOAD]:
        level = levels.get(key, (0, 0))
        levels[key] = (level[0] - billed, level[1] - real)
    totals = integrate(
        levels, [(counter(r), r.at_ms, r.billed_delta, r.bytes_delta) for r in changes if r.kind != UPLOAD],
        start_ms, end_ms,
    )
    for charge in charges:  # the rest of a minimum storage duration, charged when the object left
        total = totals.setdefault((charge.bucket_id, charge.storage_class, EARLY_DELETION), (0, 0))
        totals[(charge.bucket_id, charge.storage_class, EARLY_DELETION)] = (
            total[0] + charge.billed_bytes * charge.charged_ms, total[1] + charge.bytes * charge.charged_ms)
    lines = [UsageLine(_bucket_name(names, bucket_id), storage_class, kind, billed, real,
                       storage.prices.cost(storage_class, billed))
             for (bucket_id, storage_class, kind), (billed, real) in totals.items() if billed or real]
    return sorted(lines, key=lambda line: (line.bucket, KINDS.index(line.kind), line.storage_class))


KINDS = (OBJECT, PART, EARLY_DELETION)


@dataclass(frozen=True)
class EarlyDeletion:
    """An object that left its storage class before the class's minimum storage duration."""

    bucket: str
    key: str
    storage_class: str
    at: str  # when it left (ISO 8601)
    stored_days: float  # counted towards the minimum
    charged_days: float  # the rest of the minimum
    bytes: int
    billed_bytes: int
    cost: float


async def early_deletions(storage: Storage, *, start_ms: int, end_ms: int, bucket_name: str | None = None,
                          owner: str | None = None) -> list[EarlyDeletion]:
    """The early-deletion charges made in [start_ms, end_ms), costliest first."""
    async with storage.db.read(offloaded=True) as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        charges = await usage_rows.early_deletions_between(conn, start_ms, end_ms, bucket_id, owner=owner)
        names = await usage_rows.bucket_names(conn)
    found = [EarlyDeletion(_bucket_name(names, c.bucket_id), c.key, c.storage_class, format_instant(c.at_ms),
                           c.stored_ms / DAY_MS, c.charged_ms / DAY_MS, c.bytes, c.billed_bytes,
                           storage.prices.cost(c.storage_class, c.billed_bytes * c.charged_ms)) for c in charges]
    return sorted(found, key=lambda e: (-e.cost, e.at, e.bucket, e.key))


def _bucket_name(names: dict[int, str], bucket_id: int) -> str:
    return names.get(bucket_id, f"(deleted bucket {bucket_id})")


AGE_BANDS = (("< 1 day", 0, 1), ("1-7 days", 1, 7), ("7-30 days", 7, 30), ("> 30 days", 30, None))


@dataclass(frozen=True)
class ForgottenUpload:
    """An incomplete upload and what its parts hold: who started it, and how long ago."""

    bucket: str
    upload_id: str
    key: str
    initiator: str
    storage_class: str
    age_days: float  # since initiation
    parts: int
    bytes: int
    monthly_cost: float  # what its parts cost a month as they stand


@dataclass
class AgeBand:
    label: str
    uploads: int = 0
    parts: int = 0
    bytes: int = 0
    monthly_cost: float = 0.0


@dataclass
class UploadAges:
    bucket: str
    bands: list[AgeBand] = field(default_factory=lambda: [AgeBand(label) for label, _, _ in AGE_BANDS])


async def incomplete_uploads(storage: Storage, *, bucket_name: str | None = None,
                             owner: str | None = None) -> list[ForgottenUpload]:
    """Every incomplete upload with its parts' bytes, largest first: where part storage goes."""
    now = storage.clock()
    async with storage.db.read(offloaded=True) as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        rows = await usage_rows.incomplete_uploads(conn, bucket_id, owner=owner)
        names = await usage_rows.bucket_names(conn)
    found = [_forgotten(storage, names, r, now) for r in rows]
    return sorted(found, key=lambda u: (-u.bytes, u.bucket, u.key, u.upload_id))


async def largest_uploads(storage: Storage, *, limit: int, bucket_name: str | None = None,
                          owner: str | None = None) -> list[ForgottenUpload]:
    """The ``limit`` incomplete uploads holding the most part storage, largest first (ties: as
    ``incomplete_uploads`` orders them)."""
    now = storage.clock()
    async with storage.db.read(offloaded=True) as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        rows = await usage_rows.largest_uploads(conn, bucket_id, limit=limit, owner=owner)
        names = await usage_rows.bucket_names(conn)
    found = [_forgotten(storage, names, r, now) for r in rows]
    return sorted(found, key=lambda u: (-u.bytes, u.bucket, u.key, u.upload_id))


@dataclass(frozen=True)
class PartHoldings:
    """What the incomplete uploads in scope hold now, from the usage counters."""

    uploads: int
    parts: int
    bytes: int
    monthly_cost: float


async def part_holdings(storage: Storage, *, bucket_name: str | None = None,
                        owner: str | None = None) -> PartHoldings:
    """The incomplete uploads in scope and their parts now: a read of the counters kept with
    every change, whatever the number of uploads."""
    async with storage.db.read(offloaded=True) as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        rows = await usage_rows.counters(conn, bucket_id, owner=owner)
    return PartHoldings(uploads=sum(r.count for r in rows if r.kind == UPLOAD),
                        parts=sum(r.count for r in rows if r.kind == PART),
                        bytes=sum(r.bytes for r in rows if r.kind == PART),
                        monthly_cost=sum(storage.prices.monthly(r.storage_class, r.billed_bytes)
                                         for r in rows if r.kind == PART))


async def upload_ages(storage: Storage, *, bucket_name: str | None = None,
                      owner: str | None = None) -> list[UploadAges]:
    """``age_histogram`` of every incomplete upload in scope, summed by the database."""
    async with storage.db.read(offloaded=True) as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        rows = await usage_rows.upload_ages(conn, bucket_id, now_ms=storage.clock(), owner=owner,
                                            band_ends_ms=[high * DAY_MS for _, _, high in AGE_BANDS if high])
        names = await usage_rows.bucket_names(conn)
    by_bucket: dict[str, UploadAges] = {}
    for row in rows:
        name = _bucket_name(names, row.bucket_id)
        band = by_bucket.setdefault(name, UploadAges(name)).bands[row.band]
        band.uploads += row.uploads
        band.parts += int(row.parts)
        band.bytes += int(row.size)
        band.monthly_cost += storage.prices.monthly(row.storage_class, int(row.size))
    return [by_bucket[name] for name in sorted(by_bucket)]


def _forgotten(storage: Storage, names: dict[int, str], row: Any, now_ms: int) -> ForgottenUpload:
    return ForgottenUpload(_bucket_name(names, row.bucket_id), row.upload_id, row.key, row.initiator,
                           row.storage_class, (now_ms - row.initiated_ms) / DAY_MS, row.parts, int(row.size),
                           storage.prices.monthly(row.storage_class, int(row.size)))


def age_histogram(uploads: list[ForgottenUpload]) -> list[UploadAges]:
    """Per bucket: incomplete uploads by age (< 1 day, 1-7, 7-30, > 30 days)."""
    by_bucket: dict[str, UploadAges] = {}
    for upload in uploads:
        ages = by_bucket.setdefault(upload.bucket, UploadAges(upload.bucket))
        for band, (_, low, high) in zip(ages.bands, AGE_BANDS):
            if upload.age_days >= low and (high is None or upload.age_days < high):
                band.uploads += 1
                band.parts += upload.parts
                band.bytes += upload.bytes
                band.monthly_cost += upload.monthly_cost
                break
    return [by_bucket[name] for name in sorted(by_bucket)]


@dataclass(frozen=True)
class UploadShare:
    """The part storage an incomplete upload held during a window, and its cost."""

    upload: ForgottenUpload
    billed_byte_ms: int
    cost: float

    @property
    def billed_gb_hours(self) -> float:
        return self.billed_byte_ms / GB / HOUR_MS


async def part_shares(storage: Storage, *, start_ms: int, end_ms: int, bucket_name: str | None = None,
                      owner: str | None = None) -> list[UploadShare]:
    """Who the window's part storage belongs to: each upload still incomplete, with the
    byte-milliseconds its current parts spent inside [start_ms, end_ms), largest first.

    Parts of uploads since completed or aborted, and parts since replaced, are not here: the
    usage report's part lines count them, so their total minus these shares is what is no
    longer held by anyone.
    """
    shares, _ = await top_part_shares(storage, start_ms=start_ms, end_ms=end_ms, bucket_name=bucket_name,
                                      owner=owner, limit=None)
    return shares


async def top_part_shares(storage: Storage, *, start_ms: int, end_ms: int, limit: int | None,
                          bucket_name: str | None = None, owner: str | None = None) -> tuple[list[UploadShare], int]:
    """The ``limit`` largest of ``part_shares`` (all when None), and how many there are in all;
    summed by the database, so a page of them does not read every part into the process."""
    now = storage.clock()
    until = min(end_ms, now)
    async with storage.db.read(offloaded=True) as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        held, total = await usage_rows.window_part_shares(conn, bucket_id, start_ms=start_ms, until_ms=until,
                                                          limit=limit, owner=owner)
        if limit is None:  # all of them: no list of IDs as long as the uploads
            found = await usage_rows.incomplete_uploads(conn, bucket_id, owner=owner)
        else:
            found = await usage_rows.uploads_by_id(conn, [row.upload_id for row in held])
        names = await usage_rows.bucket_names(conn)
    uploads = {row.upload_id: _forgotten(storage, names, row, now) for row in found}
    # max: a share priced from the floating-point counter can come out a hair below zero.
    shares = [UploadShare(uploads[row.upload_id], max(0, int(row.byte_ms)),
                          storage.prices.cost(uploads[row.upload_id].storage_class, max(0, int(row.byte_ms))))
              for row in held if row.upload_id in uploads]
    shares.sort(key=lambda s: (-s.billed_byte_ms, s.upload.bucket, s.upload.key, s.upload.upload_id))
    return shares, total


@dataclass(frozen=True)
class StoredBytes:
    """One line of a storage-over-time chart: what one kind × storage class held at each instant."""

    kind: str  # OBJECT or PART
    storage_class: str
    billed_bytes: list[int]
    bytes: list[int]  # real size


@dataclass(frozen=True)
class StorageOverTime:
    instants: list[int]  # epoch milliseconds, ascending
    lines: list[StoredBytes]  # objects first, then parts; classes in their usual order


def even_instants(start_ms: int, end_ms: int, points: int) -> list[int]:
    """``points`` instants evenly spaced from ``start_ms`` to ``end_ms``, both included."""
    if points < 2:
        raise ValueError("a series needs at least 2 points")
    if end_ms <= start_ms:
        return [start_ms]
    return [start_ms + (end_ms - start_ms) * i // (points - 1) for i in range(points)]


async def storage_over_time(storage: Storage, *, start_ms: int, end_ms: int, points: int = 49,
                            bucket_name: str | None = None, owner: str | None = None) -> StorageOverTime:
    """The bytes stored, summed over the buckets in scope, at ``points`` evenly spaced instants
    of [start_ms, end_ms] per kind × storage class: the usage counters now, less the ledger's
    changes since the first instant, summed per instant by the database (``accumulate``) — one
    aggregate query, however many points, reading no history older than the window. The window
    stops at now, as ``storage_usage`` does; a line that is zero throughout is left out."""
    end_ms = max(start_ms, min(end_ms, storage.clock()))
    instants = even_instants(start_ms, end_ms, points)
    async with storage.db.read(offloaded=True) as conn:  # one snapshot: the counters and the ledger agree
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        counters = await usage_rows.counters(conn, bucket_id, owner=owner)
        steps = await usage_rows.ledger_steps(conn, start_ms=start_ms, end_ms=end_ms, points=len(instants),
                                              bucket_id=bucket_id, owner=owner)
    now: dict[tuple, tuple[int, int]] = {}
    for row in counters:
        if row.kind in (OBJECT, PART):
            billed, real = now.get((row.kind, row.storage_class), (0, 0))
            now[(row.kind, row.storage_class)] = (billed + row.billed_bytes, real + row.bytes)
    changes: dict[tuple, dict[int, tuple[int, int]]] = {}
    for row in steps:
        if row.kind in (OBJECT, PART):
            changes.setdefault((row.kind, row.storage_class), {})[int(row.step)] = (int(row.billed), int(row.bytes))
    levels = accumulate(now, changes, len(instants))
    lines = [StoredBytes(kind, storage_class, [b for b, _ in values], [r for _, r in values])
             for (kind, storage_class), values in levels.items() if any(b or r for b, r in values)]
    order = {name: index for index, name in enumerate(STORAGE_CLASSES)}
    lines.sort(key=lambda line: (KINDS.index(line.kind), order.get(line.storage_class, len(order)),
                                 line.storage_class))
    return StorageOverTime(instants, lines)
