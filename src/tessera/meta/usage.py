"""Usage counters per bucket × storage class × kind (object | part | upload), kept exact.

The functions that change object, upload and part rows record what they change with ``record``
on the transaction's connection; ``flush`` applies the sums in one upsert per counter when the
transaction commits (``Database.write``), in a fixed order, so concurrent writers neither lose
updates nor deadlock. Nothing is ever recounted by scanning.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.metering import MINIMUM_DAYS, OBJECT, UPLOAD, billed_size, early_charge_ms
from tessera.meta.schema import ACTIVE_UPLOAD, buckets, early_deletions, parts, uploads, usage, usage_ledger

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


async def ledger_changes(conn: AsyncConnection, start_ms: int, end_ms: int, bucket_id: int | None, *,
                         owner: str | None = None) -> list[Any]:
    """The ledger entries in [start_ms, end_ms), oldest first."""
    query = (
        sa.select(usage_ledger)
        .where(usage_ledger.c.at_ms >= start_ms, usage_ledger.c.at_ms < end_ms)
        .order_by(usage_ledger.c.at_ms, usage_ledger.c.entry_id)
    )
    return list(await conn.execute(_scoped(query, usage_ledger.c.bucket_id, bucket_id, owner)))


async def ledger_sums_since(conn: AsyncConnection, since_ms: int, bucket_id: int | None, *,
                            owner: str | None = None) -> list[Any]:
    """Each counter's changes from ``since_ms`` on, summed (bucket_id, storage_class, kind,
    billed, bytes): the counters now less these are the levels just before ``since_ms``, read
    from the recent end of the ledger instead of its whole history."""
    query = (
        sa.select(usage_ledger.c.bucket_id, usage_ledger.c.storage_class, usage_ledger.c.kind,
                  sa.func.sum(usage_ledger.c.billed_delta).label("billed"),
                  sa.func.sum(usage_ledger.c.bytes_delta).label("bytes"))
        .where(usage_ledger.c.at_ms >= since_ms)
        .group_by(usage_ledger.c.bucket_id, usage_ledger.c.storage_class, usage_ledger.c.kind)
    )
    return list(await conn.execute(_scoped(query, usage_ledger.c.bucket_id, bucket_id, owner)))


async def ledger_steps(conn: AsyncConnection, *, start_ms: int, end_ms: int, points: int, bucket_id: int | None,
                       owner: str | None = None) -> list[Any]:
    """The ledger's changes since ``start_ms`` summed per kind × storage class (over the buckets
    in scope) and step: the first of ``points`` instants evenly spaced over [start_ms, end_ms]
    that each change counts at, or ``points`` for changes after ``end_ms`` (the arithmetic of
    ``core.metering.step_of``). At most (points + 1) rows per kind × storage class."""
    after = sa.literal_column(str(points), sa.Integer)
    span = end_ms - start_ms
    if span == 0:
        within: Any = sa.literal_column("0", sa.Integer)
    else:
        offset = usage_ledger.c.at_ms - sa.literal(start_ms, sa.BigInteger)
        within = (offset * (points - 1) + sa.literal(span - 1, sa.BigInteger)) // sa.literal(span, sa.BigInteger)
    step = sa.case((usage_ledger.c.at_ms > sa.literal(end_ms, sa.BigInteger), after), else_=within).label("step")
    query = (
        sa.select(usage_ledger.c.kind, usage_ledger.c.storage_class, step,
                  sa.func.sum(usage_ledger.c.billed_delta).label("billed"),
                  sa.func.sum(usage_ledger.c.bytes_delta).label("bytes"))
        .where(usage_ledger.c.at_ms >= start_ms)
        .group_by(usage_ledger.c.kind, usage_ledger.c.storage_class, step)
    )
    return list(await conn.execute(_scoped(query, usage_ledger.c.bucket_id, bucket_id, owner)))


async def early_deletions_between(conn: AsyncConnection, start_ms: int, end_ms: int,
                                  bucket_id: int | None, *, owner: str | None = None) -> list[Any]:
    """The early-deletion charges made in [start_ms, end_ms)."""
    query = sa.select(early_deletions).where(early_deletions.c.at_ms >= start_ms, early_deletions.c.at_ms < end_ms)
    query = _scoped(query, early_deletions.c.bucket_id, bucket_id, owner)
    return list(await conn.execute(query.order_by(early_deletions.c.at_ms, early_deletions.c.entry_id)))


async def bucket_names(conn: AsyncConnection) -> dict[int, str]:
    return {r.bucket_id: r.name for r in await conn.execute(sa.select(buckets.c.bucket_id, buckets.c.name))}


async def incomplete_uploads(conn: AsyncConnection, bucket_id: int | None, *, owner: str | None = None) -> list[Any]:
    """Every in-progress upload with its part count and bytes (for attribution and ages)."""
    return list(await conn.execute(_per_upload(bucket_id, owner)))


async def largest_uploads(conn: AsyncConnection, bucket_id: int | None, *, limit: int,
                          owner: str | None = None) -> list[Any]:
    """The ``limit`` in-progress uploads whose parts hold the most bytes (ties at the limit:
    any of them), as ``incomplete_uploads`` gives them.

    Ranked by the per-upload counters: each bucket's largest walk its ix_uploads_active_by_bytes
    backwards, the buckets' in one statement (a few hundred per statement: SQLite's bound on a
    compound SELECT), then the best of them — never a sort of every upload. The rows of the
    few ranked are read after."""
    wanted = _bounded(limit)
    ranked = await _each_bucket(conn, await _buckets_in_scope(conn, bucket_id, owner), lambda one: (
        sa.select(uploads.c.upload_id, uploads.c.part_bytes)
        .where(uploads.c.bucket_id == one, ACTIVE_UPLOAD)
        .order_by(uploads.c.part_bytes.desc(), uploads.c.upload_id.desc())
        .limit(wanted)))
    ranked.sort(key=lambda row: (-row.part_bytes, row.upload_id))
    return await uploads_by_id(conn, [row.upload_id for row in ranked[:wanted]])


async def counters(conn: AsyncConnection, bucket_id: int | None, *, owner: str | None = None) -> list[Any]:
    """The usage counters in scope (bucket_id, storage_class, kind, count, bytes, billed_bytes)."""
    return list(await conn.execute(_scoped(sa.select(usage), usage.c.bucket_id, bucket_id, owner)))


async def upload_ages(conn: AsyncConnection, bucket_id: int | None, *, now_ms: int, band_ends_ms: Sequence[int],
                      owner: str | None = None) -> list[Any]:
    """In-progress uploads, their parts and the parts' bytes per bucket × age band × storage
    class (band ``i``: younger than ``band_ends_ms[i]`` and not in an earlier band; the last band
    the older ones), from the per-upload counters.

    A band is a range of initiation times, so each bucket's band is read from its range of
    ix_uploads_active_by_initiated, which carries the counters (docs/console.md, Usage)."""
    # Band i: now − end[i] < initiated ≤ now − end[i − 1] (age = now − initiated).
    bounds = [now_ms - end for end in band_ends_ms]
    ranges = list(zip([None, *bounds], [*bounds, None]))

    def band(one: int, storage_class: str, number: int, newest: int | None, oldest: int | None) -> Any:
        window = [uploads.c.initiated_ms <= newest] if newest is not None else []
        window += [uploads.c.initiated_ms > oldest] if oldest is not None else []
        # Band numbers inline: PostgreSQL would type a bound one as text in a union.
        return (sa.select(uploads.c.bucket_id, sa.literal_column(str(number), sa.Integer).label("band"),
                          uploads.c.storage_class, sa.func.count().label("uploads"),
                          sa.func.sum(uploads.c.part_count).label("parts"),
                          sa.func.sum(uploads.c.part_bytes).label("size"))
                .where(uploads.c.bucket_id == one, ACTIVE_UPLOAD, uploads.c.storage_class == storage_class, *window)
                .group_by(uploads.c.bucket_id, uploads.c.storage_class))

    # One query per storage class that has uploads (the usage counters know which), so that a
    # range is summed as the index gives it, not sorted by class first.
    in_scope = await _buckets_in_scope(conn, bucket_id, owner)
    classes: dict[int, list[str]] = defaultdict(list)
    for at in range(0, len(in_scope), 500):
        for row in await conn.execute(
                sa.select(usage.c.bucket_id, usage.c.storage_class)
                .where(usage.c.bucket_id.in_(in_scope[at:at + 500]), usage.c.kind == UPLOAD, usage.c.count > 0)
                .order_by(usage.c.bucket_id, usage.c.storage_class)):
            classes[row.bucket_id].append(row.storage_class)
    return await _each_bucket(conn, in_scope, lambda one: [
        band(one, storage_class, number, newest, oldest)
        for storage_class in classes[one] for number, (newest, oldest) in enumerate(ranges)])


async def window_part_shares(conn: AsyncConnection, bucket_id: int | None, *, start_ms: int, until_ms: int,
                             limit: int | None, owner: str | None = None) -> tuple[list[Any], int]:
    """The in-progress uploads whose parts (written before ``until_ms``) held the most
    byte-milliseconds inside [start_ms, until_ms), as (upload_id, byte_ms) rows, and how many
    held any. Summed in the database, so a page of the largest reads no upload outside it.

    Most uploads are priced from their part counters, without reading a part: one whose parts
    all came before the window held ``part_bytes`` through all of it, and one started inside the
    window whose parts all came before its end held Σ size × (until − uploaded at), which is
    part_bytes × until − part_uploaded_byte_ms (a part comes after its upload's initiation, and
    last_part_ms is the latest part's time). Only an upload whose parts straddle an edge of the
    window has its parts read."""
    if start_ms >= until_ms:
        return [], 0
    until = sa.literal(until_ms, sa.BigInteger)
    latest = sa.func.coalesce(uploads.c.last_part_ms, uploads.c.initiated_ms)
    since = sa.case((parts.c.last_modified_ms > start_ms, parts.c.last_modified_ms), else_=start_ms)
    # Exact numbers: a 5 GB part held for a month is past a 64-bit integer in byte-milliseconds.
    from_parts = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.cast(parts.c.size, sa.Numeric) * (until - since)), 0))
        .where(parts.c.upload_id == uploads.c.upload_id, parts.c.last_modified_ms < until_ms)
        .scalar_subquery()
    )
    before_window = latest <= start_ms
    inside_window = sa.and_(uploads.c.initiated_ms >= start_ms, latest < until_ms)
    held = sa.case(
        (before_window, sa.cast(uploads.c.part_bytes, sa.Numeric) * (until_ms - start_ms)),
        (inside_window, sa.cast(uploads.c.part_bytes, sa.Numeric) * until - uploads.c.part_uploaded_byte_ms),
        else_=from_parts,
    ).label("byte_ms")
    # Whether it held any is decided exactly, not from the floating-point counter's difference.
    held_any = sa.case((sa.or_(before_window, inside_window), uploads.c.part_bytes > 0), else_=from_parts > 0)
    # Each bucket's own range of ix_uploads_active_by_initiated, which carries the counters:
    # asked for every bucket at once, SQLite walks another index and reads every row. Counted
    # apart: a count over the ranking would make SQLite keep every row to sort, not the best.
    in_scope = await _buckets_in_scope(conn, bucket_id, owner)
    holding = [ACTIVE_UPLOAD, uploads.c.initiated_ms < until_ms, held_any]
    ranked = await _each_bucket(conn, in_scope, lambda one: (
        sa.select(uploads.c.upload_id, held).where(uploads.c.bucket_id == one, *holding)
        .order_by(sa.desc("byte_ms"), uploads.c.upload_id)
        .limit(None if limit is None else _bounded(limit))))
    counted = await _each_bucket(conn, in_scope, lambda one: (
        sa.select(sa.func.count().label("uploads")).where(uploads.c.bucket_id == one, *holding)))
    total = sum(row.uploads for row in counted)
    ranked.sort(key=lambda row: (-row.byte_ms, row.upload_id))
    return ranked[:limit], total


async def uploads_by_id(conn: AsyncConnection, upload_ids: Sequence[str]) -> list[Any]:
    """These in-progress uploads, as ``incomplete_uploads`` gives them."""
    found: list[Any] = []
    for at in range(0, len(upload_ids), 500):  # bound the statement's parameters, whatever was asked for
        batch = upload_ids[at:at + 500]
        found += await conn.execute(_per_upload(None, None).where(uploads.c.upload_id.in_(batch)))
    return found


def _per_upload(bucket_id: int | None, owner: str | None) -> Any:
    # The per-upload part counters, changed with the parts (meta/schema.py uploads): no part is read.
    query = (
        sa.select(uploads.c.upload_id, uploads.c.bucket_id, uploads.c.key, uploads.c.initiator,
                  uploads.c.storage_class, uploads.c.initiated_ms, uploads.c.part_count.label("parts"),
                  uploads.c.part_bytes.label("size"))
        .where(ACTIVE_UPLOAD)
    )
    return _scoped(query, uploads.c.bucket_id, bucket_id, owner)


async def incomplete_upload_parts(conn: AsyncConnection, bucket_id: int | None, *, before_ms: int,
                                  owner: str | None = None) -> list[Any]:
    """The parts of in-progress uploads last written before ``before_ms``: size and when."""
    query = (
        sa.select(parts.c.upload_id, parts.c.size, parts.c.last_modified_ms)
        .select_from(parts.join(uploads, parts.c.upload_id == uploads.c.upload_id))
        .where(ACTIVE_UPLOAD, parts.c.last_modified_ms < before_ms)
    )
    return list(await conn.execute(_scoped(query, uploads.c.bucket_id, bucket_id, owner)))


async def _buckets_in_scope(conn: AsyncConnection, bucket_id: int | None, owner: str | None) -> list[int]:
    if bucket_id is not None:
        return [bucket_id]
    in_scope = _scoped(sa.select(buckets.c.bucket_id), buckets.c.bucket_id, None, owner)
    return [row.bucket_id for row in await conn.execute(in_scope)]


async def _each_bucket(conn: AsyncConnection, bucket_ids: list[int],
                       queries_of: Callable[[int], Any | list[Any]]) -> list[Any]:
    """The rows of ``queries_of(bucket_id)`` (one query or several) for every bucket, a few
    hundred queries per statement (SQLite's bound on a compound SELECT is 500): a query of one
    bucket walks that bucket's range of an index, where one of every bucket may read every row."""
    queries = [query for one in bucket_ids for query in _listed(queries_of(one))]
    found: list[Any] = []
    for at in range(0, len(queries), 400):
        each = [query.subquery() for query in queries[at:at + 400]]
        found += await conn.execute(sa.union_all(*[sa.select(*sub.c) for sub in each]))
    return found


def _listed(queries: Any | list[Any]) -> list[Any]:
    return queries if isinstance(queries, list) else [queries]


def _bounded(limit: int) -> int:
    """A LIMIT both engines take: a count past any table's rows is as good as no limit."""
    return max(0, min(limit, 2**62))


def _scoped(query: Any, bucket_column: Any, bucket_id: int | None, owner: str | None) -> Any:
    """Only one bucket's rows, and/or only those of the buckets ``owner`` owns (a console
    session that is not the root key sees its own buckets: docs/console.md)."""
    if bucket_id is not None:
        query = query.where(bucket_column == bucket_id)
    if owner is not None:
        query = query.where(bucket_column.in_(sa.select(buckets.c.bucket_id).where(buckets.c.owner == owner)))
    return query


async def for_buckets(conn: AsyncConnection, bucket_ids: list[int]) -> list[Any]:
    return list(await conn.execute(sa.select(usage).where(usage.c.bucket_id.in_(bucket_ids))))
