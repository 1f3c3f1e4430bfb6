"""Queries behind Part Management: a bucket's active uploads in any order, a page at a time by
keyset (never OFFSET), their totals from the per-upload counters, and what their parts cost so far.

Each order is served by a partial index over the active uploads of a bucket whose last column
before the tie-breaking upload_id is the sort column (schema.py: ix_uploads_active_listing,
ix_uploads_active_age, ix_uploads_active_by_*), so a page reads about ``limit`` index entries
whatever its depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.meta.ranges import successor
from tessera.meta.schema import ACTIVE_UPLOAD, parts, uploads


SORT_COLUMNS: dict[str, sa.ColumnElement] = {
    "key": uploads.c.key,
    "initiated": uploads.c.initiated_ms,
    # As the lifecycle index: an upload without parts last changed when it was initiated.
    "last_part": sa.func.coalesce(uploads.c.last_part_ms, uploads.c.initiated_ms),
    "parts": uploads.c.part_count,
    "size": uploads.c.part_bytes,
}


_ROW = (uploads.c.upload_id, uploads.c.key, uploads.c.initiated_ms, uploads.c.last_part_ms, uploads.c.part_count,
        uploads.c.part_bytes, uploads.c.part_uploaded_byte_ms, uploads.c.storage_class, uploads.c.initiator)


@dataclass(frozen=True)
class UploadRow:
    upload_id: str
    key: str
    initiated_ms: int
    last_part_ms: int | None
    part_count: int
    part_bytes: int
    part_uploaded_byte_ms: float
    storage_class: str
    initiator: str
    sort_value: Any


@dataclass(frozen=True)
class Counts:
    uploads: int
    parts: int
    bytes: int


def _active(bucket_id: int, prefix: str, *, prefix_as_filter: bool = False) -> list[sa.ColumnElement]:
    """Active uploads of the bucket under ``prefix``: as a key range (a seek in the key index),
    or — ``prefix_as_filter`` — as a test on each row, which no index serves, so that the planner
    walks the index of the requested order instead."""
    window: list[sa.ColumnElement] = []
    if prefix and prefix_as_filter:
        window = [sa.func.substr(uploads.c.key, 1, len(prefix)) == _inline(prefix)]  # code points on both engines
    elif prefix:
        window = [uploads.c.key >= _inline(prefix)]
        upper = successor(prefix)
        if upper is not None:
            window.append(uploads.c.key < _inline(upper))
    return [uploads.c.bucket_id == bucket_id, ACTIVE_UPLOAD, *window]


def _inline(key: str) -> sa.BindParameter:
    """A key bound into the statement's text rather than as a parameter: PostgreSQL re-plans a
    prepared statement generically after a few runs, and a generic plan cannot know whether the
    prefix matches 20 uploads or 98 000 — it then walks a whole index for a handful of rows."""
    return sa.bindparam(None, key, type_=uploads.c.key.type, literal_execute=True)


def _beyond(column: sa.ColumnElement, position: tuple[Any, str], *, reverse: bool) -> list[sa.ColumnElement]:
    """(column, upload_id) after ``position`` (before it when ``reverse``), written as a range on
    the column plus a tie-break: both engines turn the range into an index seek, which they do not
    for a row-value comparison on an expression (the last-part order)."""
    value, upload_id = position
    if reverse:
        return [column <= value, sa.or_(column < value, uploads.c.upload_id < upload_id)]
    return [column >= value, sa.or_(column > value, uploads.c.upload_id > upload_id)]


def page_query(bucket_id: int, *, sort: str, descending: bool, prefix: str, position: tuple[Any, str] | None,
               backwards: bool, limit: int, prefix_as_filter: bool = False) -> sa.Select:
    """The query of ``page`` (apart, so that the benchmark can show its plan)."""
    column = SORT_COLUMNS[sort]
    reverse = descending != backwards  # the direction the index is walked
    conditions = _active(bucket_id, prefix, prefix_as_filter=prefix_as_filter)
    if position is not None:
        conditions.extend(_beyond(column, position, reverse=reverse))
    ordering = column
    if prefix and sort != "key" and not prefix_as_filter:
        # The prefix matches few uploads: read its key range and sort them. Ordering by an
        # expression no index has keeps PostgreSQL's planner from walking the whole order's
        # index instead, which it prefers under a LIMIT however few rows match.
        ordering = column + 0
    order = [ordering.desc(), uploads.c.upload_id.desc()] if reverse else [ordering, uploads.c.upload_id]
    return sa.select(*_ROW, column.label("sort_value")).where(*conditions).order_by(*order).limit(limit)


async def page(conn: AsyncConnection, bucket_id: int, *, sort: str, descending: bool, prefix: str,
               position: tuple[Any, str] | None, backwards: bool, limit: int,
               prefix_as_filter: bool = False) -> list[UploadRow]:
    """Up to ``limit`` uploads after ``position`` (a sort value and upload ID) in the requested
    order, or — ``backwards`` — the ``limit`` just before it, still returned in that order."""
    query = page_query(bucket_id, sort=sort, descending=descending, prefix=prefix, position=position,
                       backwards=backwards, limit=limit, prefix_as_filter=prefix_as_filter)
    rows = [UploadRow(**r._mapping) for r in await conn.execute(query)]
    return rows[::-1] if backwards else rows


async def counts(conn: AsyncConnection, bucket_id: int, *, prefix: str = "", upload_ids: list[str] | None = None,
                 initiated_at_or_before_ms: int | None = None, up_to: int | None = None) -> Counts:
    """How many active uploads (of ``upload_ids``, or all under ``prefix``), parts and bytes —
    from the uploads' own counters, so one index range and no part rows. ``up_to`` stops after
    that many uploads (more than ``up_to`` then reads as ``up_to + 1``, with their parts)."""
    conditions = _active(bucket_id, prefix)
    if initiated_at_or_before_ms is not None:
        conditions.append(uploads.c.initiated_ms <= initiated_at_or_before_ms)
    total = Counts(0, 0, 0)
    for chosen in _chunks(upload_ids) if upload_ids is not None else [None]:
        where = conditions if chosen is None else [*conditions, uploads.c.upload_id.in_(chosen)]
        matching = sa.select(uploads.c.part_count, uploads.c.part_bytes).where(*where)
        if up_to is not None:
            matching = matching.limit(up_to + 1)
        found = matching.subquery()
        row = (await conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(found.c.part_count), 0),
                      sa.func.coalesce(sa.func.sum(found.c.part_bytes), 0))
        )).one()
        total = Counts(total.uploads + int(row[0]), total.parts + int(row[1]), total.bytes + int(row[2]))
    return total


async def lock_in_bucket(conn: AsyncConnection, bucket_id: int, upload_ids: list[str]) -> list[UploadRow]:
    """Of ``upload_ids``, those still active in this bucket, locked against parts and Complete."""
    found: list[UploadRow] = []
    for chosen in _chunks(upload_ids):
        found.extend(await _locked(conn, [*_active(bucket_id, ""), uploads.c.upload_id.in_(chosen)], None))
    return found


async def lock_next_batch(conn: AsyncConnection, bucket_id: int, *, prefix: str, initiated_at_or_before_ms: int,
                          after: tuple[str, str] | None, limit: int) -> list[UploadRow]:
    """The next ``limit`` active uploads in key order after ``after`` (key, upload ID) under
    ``prefix`` that were initiated by the cutoff, locked."""
    conditions = [*_active(bucket_id, prefix), uploads.c.initiated_ms <= initiated_at_or_before_ms]
    if after is not None:
        conditions.extend(_beyond(uploads.c.key, after, reverse=False))
    return await _locked(conn, conditions, limit)


async def _locked(conn: AsyncConnection, conditions: list[sa.ColumnElement], limit: int | None) -> list[UploadRow]:
    query = (
        sa.select(*_ROW, uploads.c.key.label("sort_value"))
        .where(*conditions).order_by(uploads.c.key, uploads.c.upload_id).limit(limit).with_for_update()
    )
    return [UploadRow(**r._mapping) for r in await conn.execute(query)]


@dataclass(frozen=True)
class Miscount:
    upload_id: str
    counted: Counts  # by the upload's counters (uploads = 1)
    found: Counts  # in its part rows
    uploaded_byte_ms: tuple[float, float]  # the counter, and from the part rows


async def counter_mismatches(conn: AsyncConnection) -> list[Miscount]:
    """Active uploads whose counters disagree with their parts — for fsck."""
    found = (
        sa.select(parts.c.upload_id, sa.func.count().label("n"), sa.func.sum(parts.c.size).label("size"),
                  sa.func.sum(sa.cast(parts.c.size, sa.Float) * parts.c.last_modified_ms).label("byte_ms"))
        .group_by(parts.c.upload_id).subquery()
    )
    rows = await conn.execute(
        sa.select(uploads.c.upload_id, uploads.c.part_count, uploads.c.part_bytes, uploads.c.part_uploaded_byte_ms,
                  found.c.n, found.c.size, found.c.byte_ms)
        .select_from(uploads.outerjoin(found, found.c.upload_id == uploads.c.upload_id))
        .where(ACTIVE_UPLOAD)
    )
    wrong = []
    for r in rows:
        n, size, byte_ms = int(r.n or 0), int(r.size or 0), float(r.byte_ms or 0)
        # The floating-point sum may differ in its last digits from one added part by part.
        close = abs(r.part_uploaded_byte_ms - byte_ms) <= 1e-9 * abs(byte_ms) + 1
        if (r.part_count, r.part_bytes) != (n, size) or not close:
            wrong.append(Miscount(r.upload_id, Counts(1, r.part_count, r.part_bytes), Counts(1, n, size),
                                  (r.part_uploaded_byte_ms, byte_ms)))
    return wrong


def _chunks(ids: list[str] | None, size: int = 500) -> list[list[str]]:
    ids = ids or []
    return [ids[start : start + size] for start in range(0, len(ids), size)]


async def one(conn: AsyncConnection, bucket_id: int, upload_id: str) -> UploadRow | None:
    """One active upload of the bucket, or None."""
    row = (await conn.execute(
        sa.select(*_ROW, uploads.c.key.label("sort_value"))
        .where(*_active(bucket_id, ""), uploads.c.upload_id == upload_id)
    )).first()
    return UploadRow(**row._mapping) if row else None
