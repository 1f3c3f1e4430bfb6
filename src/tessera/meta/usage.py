"""Usage counters per bucket × storage class × kind (object | part | upload), kept exact.

The functions that change object, upload and part rows record what they change with ``record``
on the transaction's connection; ``flush`` applies the sums in one upsert per counter when the
transaction commits (``Database.write``), in a fixed order, so concurrent writers neither lose
updates nor deadlock. Nothing is ever recounted by scanning.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.metering import MINIMUM_DAYS, OBJECT, billed_size, early_charge_ms
from tessera.meta.schema import buckets, early_deletions, parts, uploads, usage, usage_ledger

_PENDING = "tessera.usage"
_DEPARTED = "tessera.usage.departed"
Counter = tuple[int, str, str]  # bucket_id, storage_class, kind


def record(conn: AsyncConnection, bucket_id: int, storage_class: str, kind: str, *, count: int, sizes: list[int],
           sign: int = 1) -> None:
    """Count ``count`` objects/parts/uploads of ``sizes`` in (+1) or out (-1) of a counter."""
    pending: dict[Counter, list[int]] = conn.info.setdefault(_PENDING, defaultdict(lambda: [0, 0, 0]))
    totals = pending[(bucket_id, storage_class, kind)]
    totals[0] += sign * count
    totals[1] += sign * sum(sizes)
    totals[2] += sign * sum(billed_size(kind, storage_class, s) for s in sizes)


def record_departure(conn: AsyncConnection, bucket_id: int, key: str, storage_class: str, size: int, *,
                     counted_from_ms: int) -> None:
    """An object leaves ``storage_class``: charged at commit for the rest of the class's minimum
    storage duration, if any is left then."""
    if storage_class in MINIMUM_DAYS:
        conn.info.setdefault(_DEPARTED, []).append((bucket_id, key, storage_class, size, counted_from_ms))


def discard(conn: AsyncConnection) -> None:
    conn.info.pop(_PENDING, None)
    conn.info.pop(_DEPARTED, None)


_LEDGER_INSERT = sa.insert(usage_ledger)


@functools.cache
def _counter_upsert(dialect: str) -> Any:
    """Add to a counter, creating it at zero if needed (built once: it is on every write's path)."""
    statement = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(usage)
    return statement.on_conflict_do_update(
        index_elements=[usage.c.bucket_id, usage.c.storage_class, usage.c.kind],
        set_={"count": usage.c.count + statement.excluded.count,
              "bytes": usage.c.bytes + statement.excluded.bytes,
              "billed_bytes": usage.c.billed_bytes + statement.excluded.billed_bytes},
    )


async def flush(conn: AsyncConnection, now_ms: int) -> None:
    """Apply the recorded changes to the counters and append them to the ledger at ``now_ms``;
    record the early-deletion charges of objects that left their class."""
    pending: dict[Counter, list[int]] = conn.info.pop(_PENDING, {})
    entries = [{"bucket_id": bucket_id, "storage_class": storage_class, "kind": kind, "at_ms": now_ms,
                "count_delta": count, "bytes_delta": size, "billed_delta": billed}
               for (bucket_id, storage_class, kind), (count, size, billed) in sorted(pending.items())
               if count or size or billed]
    if entries:
        # In a fixed order: concurrent writers lock the counter rows in the same order.
        counters = [{"bucket_id": e["bucket_id"], "storage_class": e["storage_class"], "kind": e["kind"],
                     "count": e["count_delta"], "bytes": e["bytes_delta"], "billed_bytes": e["billed_delta"]}
                    for e in entries]
        await conn.execute(_counter_upsert(conn.dialect.name), counters)
        await conn.execute(_LEDGER_INSERT, entries)
    charges = []
    for bucket_id, key, storage_class, size, counted_from_ms in conn.info.pop(_DEPARTED, []):
        charged_ms = early_charge_ms(storage_class, counted_from_ms, now_ms)
        if charged_ms:
            charges.append({"bucket_id": bucket_id, "key": key, "storage_class": storage_class, "at_ms": now_ms,
                            "stored_ms": max(0, now_ms - counted_from_ms), "charged_ms": charged_ms, "bytes": size,
                            "billed_bytes": billed_size(OBJECT, storage_class, size)})
    if charges:
        await conn.execute(sa.insert(early_deletions), charges)


async def for_bucket(conn: AsyncConnection, bucket_id: int) -> list[Any]:
    return list(await conn.execute(sa.select(usage).where(usage.c.bucket_id == bucket_id)))


async def drop_bucket(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(sa.delete(usage).where(usage.c.bucket_id == bucket_id))


async def ledger_levels(conn: AsyncConnection, before_ms: int, bucket_id: int | None) -> list[Any]:
    """Each counter's level (count, bytes, billed) just before ``before_ms``."""
    query = (
        sa.select(usage_ledger.c.bucket_id, usage_ledger.c.storage_class, usage_ledger.c.kind,
                  sa.func.sum(usage_ledger.c.count_delta).label("count"),
                  sa.func.sum(usage_ledger.c.bytes_delta).label("bytes"),
                  sa.func.sum(usage_ledger.c.billed_delta).label("billed"))
        .where(usage_ledger.c.at_ms < before_ms)
        .group_by(usage_ledger.c.bucket_id, usage_ledger.c.storage_class, usage_ledger.c.kind)
    )
    if bucket_id is not None:
        query = query.where(usage_ledger.c.bucket_id == bucket_id)
    return list(await conn.execute(query))


async def ledger_changes(conn: AsyncConnection, start_ms: int, end_ms: int, bucket_id: int | None) -> list[Any]:
    """The ledger entries in [start_ms, end_ms), oldest first."""
    query = (
        sa.select(usage_ledger)
        .where(usage_ledger.c.at_ms >= start_ms, usage_ledger.c.at_ms < end_ms)
        .order_by(usage_ledger.c.at_ms, usage_ledger.c.entry_id)
    )
    if bucket_id is not None:
        query = query.where(usage_ledger.c.bucket_id == bucket_id)
    return list(await conn.execute(query))


async def early_deletions_between(conn: AsyncConnection, start_ms: int, end_ms: int,
                                  bucket_id: int | None) -> list[Any]:
    """The early-deletion charges made in [start_ms, end_ms)."""
    query = sa.select(early_deletions).where(early_deletions.c.at_ms >= start_ms, early_deletions.c.at_ms < end_ms)
    if bucket_id is not None:
        query = query.where(early_deletions.c.bucket_id == bucket_id)
    return list(await conn.execute(query.order_by(early_deletions.c.at_ms, early_deletions.c.entry_id)))


async def bucket_names(conn: AsyncConnection) -> dict[int, str]:
    return {r.bucket_id: r.name for r in await conn.execute(sa.select(buckets.c.bucket_id, buckets.c.name))}


async def incomplete_uploads(conn: AsyncConnection, bucket_id: int | None) -> list[Any]:
    """Every in-progress upload with its part count and bytes (for attribution and ages)."""
    query = (
        sa.select(uploads.c.upload_id, uploads.c.bucket_id, uploads.c.key, uploads.c.initiator,
                  uploads.c.storage_class, uploads.c.initiated_ms,
                  sa.func.count(parts.c.part_number).label("parts"),
                  sa.func.coalesce(sa.func.sum(parts.c.size), 0).label("size"))
        .select_from(uploads.outerjoin(parts, parts.c.upload_id == uploads.c.upload_id))
        .where(uploads.c.state == "active")
        .group_by(uploads.c.upload_id, uploads.c.bucket_id, uploads.c.key, uploads.c.initiator,
                  uploads.c.storage_class, uploads.c.initiated_ms)
    )
    if bucket_id is not None:
        query = query.where(uploads.c.bucket_id == bucket_id)
    return list(await conn.execute(query))


async def incomplete_upload_parts(conn: AsyncConnection, bucket_id: int | None, *, before_ms: int) -> list[Any]:
    """The parts of in-progress uploads last written before ``before_ms``: size and when."""
    query = (
        sa.select(parts.c.upload_id, parts.c.size, parts.c.last_modified_ms)
        .select_from(parts.join(uploads, parts.c.upload_id == uploads.c.upload_id))
        .where(uploads.c.state == "active", parts.c.last_modified_ms < before_ms)
    )
    if bucket_id is not None:
        query = query.where(uploads.c.bucket_id == bucket_id)
    return list(await conn.execute(query))


async def for_buckets(conn: AsyncConnection, bucket_ids: list[int]) -> list[Any]:
    return list(await conn.execute(sa.select(usage).where(usage.c.bucket_id.in_(bucket_ids))))
