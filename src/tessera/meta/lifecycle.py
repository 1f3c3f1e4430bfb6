"""Lifecycle configurations in the metadata store: normalized rules as JSON, one row a bucket."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.lifecycle.rules import (
    AbortMultipartUpload,
    Configuration,
    Exclusion,
    Expiration,
    Filter,
    NoncurrentExpiration,
    NoncurrentTransition,
    Rule,
    Tag,
    Transition,
)
from tessera.meta.conflicts import dialect_insert
from tessera.meta.ranges import key_window
from tessera.meta.schema import ACTIVE_UPLOAD, bucket_lifecycle, buckets, lifecycle_runs, objects, uploads


async def find(conn: AsyncConnection, bucket_id: int) -> Configuration | None:
    row = (
        await conn.execute(sa.select(bucket_lifecycle.c.rules).where(bucket_lifecycle.c.bucket_id == bucket_id))
    ).first()
    return Configuration(tuple(_rule(r) for r in row.rules)) if row else None


async def store(conn: AsyncConnection, bucket_id: int, config: Configuration, now_ms: int) -> None:
    """Insert or replace the bucket's row in one statement: two stores at once (a delete, then
    an insert) made the second a duplicate key."""
    values = {"rules": [dataclasses.asdict(r) for r in config.rules], "updated_ms": now_ms}
    await conn.execute(dialect_insert(conn, bucket_lifecycle).values(bucket_id=bucket_id, **values)
                       .on_conflict_do_update(index_elements=["bucket_id"], set_=values))


async def delete(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(sa.delete(bucket_lifecycle).where(bucket_lifecycle.c.bucket_id == bucket_id))


def _rule(data: dict[str, Any]) -> Rule:
    def optional(cls: type, value: dict[str, Any] | None) -> Any:
        return cls(**value) if value is not None else None

    def tag(value: dict[str, Any] | None) -> Tag | None:
        return Tag(**value) if value is not None else None

    stored_filter = data["filter"]
    return Rule(
        id=data["id"],
        prefix=data["prefix"],
        enabled=data["enabled"],
        expiration=optional(Expiration, data["expiration"]),
        abort_multipart_upload=optional(AbortMultipartUpload, data["abort_multipart_upload"]),
        transitions=tuple(Transition(**t) for t in data["transitions"]),
        tags=tuple(Tag(**t) for t in data["tags"]),
        filter=None if stored_filter is None else Filter(
            size_greater_than=stored_filter["size_greater_than"],
            size_less_than=stored_filter["size_less_than"],
            exclusions=tuple(Exclusion(e["prefix"], tag(e["tag"])) for e in stored_filter["exclusions"]),
        ),
        noncurrent_expiration=optional(NoncurrentExpiration, data["noncurrent_expiration"]),
        noncurrent_transitions=tuple(NoncurrentTransition(**t) for t in data["noncurrent_transitions"]),
        atime_base=data["atime_base"],
    )


async def configured_buckets(conn: AsyncConnection, bucket_name: str | None = None) -> list[tuple[int, str, Configuration]]:
    """(bucket_id, name, configuration) of every bucket that has rules, by name."""
    query = (
        sa.select(buckets.c.bucket_id, buckets.c.name, bucket_lifecycle.c.rules)
        .join(bucket_lifecycle, bucket_lifecycle.c.bucket_id == buckets.c.bucket_id)
        .order_by(buckets.c.name)
    )
    if bucket_name is not None:
        query = query.where(buckets.c.name == bucket_name)
    return [(r.bucket_id, r.name, Configuration(tuple(_rule(x) for x in r.rules))) for r in await conn.execute(query)]


# --- candidates: found through indexes, a batch at a time --------------------------------------

def last_update(table: sa.Table = uploads) -> sa.ColumnElement:
    """When an upload last changed: its latest part, or its initiation if it has none."""
    return sa.func.coalesce(table.c.last_part_ms, table.c.initiated_ms)


def _outside(column: sa.ColumnElement, prefixes: Iterable[str]) -> list[sa.ColumnElement]:
    return [sa.not_(sa.and_(*key_window(column, p))) for p in prefixes]


@dataclass(frozen=True)
class UploadCandidate:
    upload_id: str
    key: str
    last_update_ms: int
    parts: int
    size: int


async def stale_uploads(conn: AsyncConnection, bucket_id: int, *, prefix: str, excluded: Iterable[str],
                        updated_at_or_before_ms: int, after: tuple[int, str] | None,
                        limit: int) -> list[UploadCandidate]:
    """Active uploads under ``prefix`` (outside ``excluded``) last updated at or before the cutoff,
    in (last update, upload ID) order — the order of their index — after ``after``, with their
    part counts and bytes."""

    def select(*position: sa.ColumnElement, count: int) -> sa.Select:
        return (
            sa.select(uploads.c.upload_id, uploads.c.key, last_update().label("last_update_ms"),
                      uploads.c.part_count, uploads.c.part_bytes)
            .where(*_stale(bucket_id, prefix, excluded, updated_at_or_before_ms), *position)
            .order_by(last_update(), uploads.c.upload_id)
            .limit(count)
        )

    found: list[Any] = []
    if after is not None:
        # Two index seeks: the rest of the uploads sharing the last timestamp, then later ones.
        # (One keyset condition over the pair makes SQLite scan from the start every time.)
        found = list(await conn.execute(select(last_update() == after[0], uploads.c.upload_id > after[1],
                                               count=limit)))
        position = [last_update() > after[0]]
    else:
        position = []
    if len(found) < limit:
        found += list(await conn.execute(select(*position, count=limit - len(found))))
    # The parts and bytes are the upload's own counters, kept with its parts (meta/schema.py).
    return [UploadCandidate(r.upload_id, r.key, r.last_update_ms, r.part_count, r.part_bytes) for r in found]


def _stale(bucket_id: int, prefix: str, excluded: Iterable[str], updated_at_or_before_ms: int) -> list[sa.ColumnElement]:
    return [uploads.c.bucket_id == bucket_id, ACTIVE_UPLOAD, last_update() <= updated_at_or_before_ms,
            *key_window(uploads.c.key, prefix), *_outside(uploads.c.key, excluded)]


@dataclass(frozen=True)
class Totals:
    count: int
    parts: int
    bytes: int


async def stale_upload_totals(conn: AsyncConnection, bucket_id: int, *, prefix: str, excluded: Iterable[str],
                              updated_at_or_before_ms: int) -> Totals:
    """How many uploads ``stale_uploads`` would give, page after page, with their parts and
    bytes: one aggregate of the uploads' counters, not a walk of the pages or of their parts."""
    held = (await conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(uploads.c.part_count), 0),
                  sa.func.coalesce(sa.func.sum(uploads.c.part_bytes), 0))
        .where(*_stale(bucket_id, prefix, excluded, updated_at_or_before_ms))
    )).one()
    return Totals(held[0], int(held[1]), int(held[2]))


@dataclass(frozen=True)
class ObjectCandidate:
    key: str
    size: int
    last_modified_ms: int
    storage_class: str
    tags: dict[str, str]


async def aged_objects(conn: AsyncConnection, bucket_id: int, *, prefix: str, excluded: Iterable[str],
                       modified_at_or_before_ms: int | None, size_greater_than: int | None,
                       size_less_than: int | None, storage_classes: Iterable[str] | None, after_key: str,
                       limit: int) -> list[ObjectCandidate]:
    """Objects under ``prefix`` (outside ``excluded``) last modified at or before the cutoff (any
    age when None), within the size bounds and, when given, in one of ``storage_classes``."""
    conditions = _aged(bucket_id, prefix, excluded, modified_at_or_before_ms, size_greater_than, size_less_than,
                       storage_classes)
    rows = await conn.execute(
        sa.select(objects.c.key, objects.c.size, objects.c.last_modified_ms, objects.c.storage_class, objects.c.tags)
        .where(*conditions, objects.c.key > after_key)
        .order_by(objects.c.key)
        .limit(limit)
    )
    return [ObjectCandidate(r.key, r.size, r.last_modified_ms, r.storage_class, dict(r.tags or {})) for r in rows]


async def aged_object_totals(conn: AsyncConnection, bucket_id: int, *, prefix: str, excluded: Iterable[str],
                             modified_at_or_before_ms: int | None, size_greater_than: int | None,
                             size_less_than: int | None, storage_classes: Iterable[str] | None) -> Totals:
    """How many objects ``aged_objects`` would give, page after page, and their bytes (one
    aggregate query; ``parts`` is 0)."""
    conditions = _aged(bucket_id, prefix, excluded, modified_at_or_before_ms, size_greater_than, size_less_than,
                       storage_classes)
    found = (await conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(objects.c.size), 0)).where(*conditions)
    )).one()
    return Totals(found[0], 0, int(found[1]))


def _aged(bucket_id: int, prefix: str, excluded: Iterable[str], modified_at_or_before_ms: int | None,
          size_greater_than: int | None, size_less_than: int | None,
          storage_classes: Iterable[str] | None) -> list[sa.ColumnElement]:
    conditions = [objects.c.bucket_id == bucket_id, *key_window(objects.c.key, prefix),
                  *_outside(objects.c.key, excluded)]
    if modified_at_or_before_ms is not None:
        conditions.append(objects.c.last_modified_ms <= modified_at_or_before_ms)
    if size_greater_than is not None:
        conditions.append(objects.c.size > size_greater_than)
    if size_less_than is not None:
        conditions.append(objects.c.size < size_less_than)
    if storage_classes is not None:
        conditions.append(objects.c.storage_class.in_(list(storage_classes)))
    return conditions


# --- the run log -------------------------------------------------------------------------------

async def start_run(conn: AsyncConnection, *, trigger: str, bucket: str | None, dry_run: bool,
                    evaluated_at_ms: int, started_ms: int) -> int:
    result = await conn.execute(
        sa.insert(lifecycle_runs).values(trigger=trigger, bucket=bucket, dry_run=dry_run,
                                         evaluated_at_ms=evaluated_at_ms, started_ms=started_ms)
        .returning(lifecycle_runs.c.run_id)
    )
    return result.scalar_one()


async def finish_run(conn: AsyncConnection, run_id: int, *, finished_ms: int, outcomes: list[dict[str, Any]],
                     errors: list[dict[str, Any]]) -> None:
    await conn.execute(
        sa.update(lifecycle_runs).where(lifecycle_runs.c.run_id == run_id)
        .values(finished_ms=finished_ms, outcomes=outcomes, errors=errors)
    )


async def recent_runs(conn: AsyncConnection, limit: int, *, bucket_name: str | None = None) -> list[Any]:
    """Newest first; with ``bucket_name``, the runs of every bucket and those of that one."""
    query = sa.select(lifecycle_runs).order_by(lifecycle_runs.c.run_id.desc()).limit(limit)
    if bucket_name is not None:
        query = query.where(sa.or_(lifecycle_runs.c.bucket.is_(None), lifecycle_runs.c.bucket == bucket_name))
    return list(await conn.execute(query))


async def last_run(conn: AsyncConnection, *, trigger: str | None) -> Any | None:
    """The latest run that is not a dry run (of ``trigger`` when given)."""
    query = sa.select(lifecycle_runs).where(lifecycle_runs.c.dry_run == sa.false())
    if trigger is not None:
        query = query.where(lifecycle_runs.c.trigger == trigger)
    return (await conn.execute(query.order_by(lifecycle_runs.c.run_id.desc()).limit(1))).first()
