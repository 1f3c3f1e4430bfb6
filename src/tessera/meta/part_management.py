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

from tessera.meta.ranges import key_window
from tessera.meta.schema import parts, uploads

ACTIVE = "active"

SORT_COLUMNS: dict[str, sa.ColumnElement] = {
    "key": uploads.c.key,
    "initiated": uploads.c.initiated_ms,
    # As the lifecycle index: an upload without parts last changed when it was initiated.
    "last_part": sa.func.coalesce(uploads.c.last_part_ms, uploads.c.initiated_ms),
    "parts": uploads.c.part_count,
    "size": uploads.c.part_bytes,
}


_ROW = (uploads.c.upload_id, uploads.c.key, uploads.c.initiated_ms, uploads.c.last_part_ms, uploads.c.part_count,
        uploads.c.part_bytes, uploads.c.storage_class, uploads.c.initiator)


@dataclass(frozen=True)
class UploadRow:
    upload_id: str
    key: str
    initiated_ms: int
    last_part_ms: int | None
    part_count: int
    part_bytes: int
    storage_class: str
    initiator: str
    sort_value: Any


@dataclass(frozen=True)
class Counts:
    uploads: int
    parts: int
    bytes: int


def _active(bucket_id: int, prefix: str) -> list[sa.ColumnElement]:
    return [uploads.c.bucket_id == bucket_id, uploads.c.state == ACTIVE, *key_window(uploads.c.key, prefix)]


def _beyond(column: sa.ColumnElement, position: tuple[Any, str], *, reverse: bool) -> list[sa.ColumnElement]:
    """(column, upload_id) after ``position`` (before it when ``reverse``), written as a range on
    the column plus a tie-break: both engines turn the range into an index seek, which they do not
    for a row-value comparison on an expression (the last-part order)."""
    value, upload_id = position
    if reverse:
        return [column <= value, sa.or_(column < value, uploads.c.upload_id < upload_id)]
    return [column >= value, sa.or_(column > value, uploads.c.upload_id > upload_id)]


def page_query(bucket_id: int, *, sort: str, descending: bool, prefix: str, position: tuple[Any, str] | None,
               backwards: bool, limit: int) -> sa.Select:
    """The query of ``page`` (apart, so that the benchmark can show its plan)."""
    column = SORT_COLUMNS[sort]
    reverse = descending != backwards  # the direction the index is walked
    conditions = _active(bucket_id, prefix)
    if position is not None:
        conditions.extend(_beyond(column, position, reverse=reverse))
    order = [column.desc(), uploads.c.upload_id.desc()] if reverse else [column, uploads.c.upload_id]
    return sa.select(*_ROW, column.label("sort_value")).where(*conditions).order_by(*order).limit(limit)


async def page(conn: AsyncConnection, bucket_id: int, *, sort: str, descending: bool, prefix: str,
               position: tuple[Any, str] | None, backwards: bool, limit: int) -> list[UploadRow]:
    """Up to ``limit`` uploads after ``position`` (a sort value and upload ID) in the requested
    order, or — ``backwards`` — the ``limit`` just before it, still returned in that order."""
    query = page_query(bucket_id, sort=sort, descending=descending, prefix=prefix, position=position,
                       backwards=backwards, limit=limit)
    rows = [UploadRow(**r._mapping) for r in await conn.execute(query)]
    return rows[::-1] if backwards else rows


async def stored_byte_ms(conn: AsyncConnection, upload_ids: list[str], now_ms: int) -> dict[str, float]:
    """upload_id → Σ part size × how long the part has been stored, for a page's uploads only
    (in floating point: a few large old parts overflow 64-bit integers)."""
    if not upload_ids:
        return {}
    held = sa.func.sum(sa.cast(parts.c.size, sa.Float) * (now_ms - parts.c.last_modified_ms))
    rows = await conn.execute(
        sa.select(parts.c.upload_id, held.label("byte_ms")).where(parts.c.upload_id.in_(upload_ids))
        .group_by(parts.c.upload_id)
    )
    return {r.upload_id: max(0.0, float(r.byte_ms or 0)) for r in rows}


async def counts(conn: AsyncConnection, bucket_id: int, *, prefix: str = "", upload_ids: list[str] | None = None,
                 initiated_at_or_before_ms: int | None = None) -> Counts:
    """How many active uploads (of ``upload_ids``, or all under ``prefix``), parts and bytes —
    from the uploads' own counters, so one index range and no part rows."""
    conditions = _active(bucket_id, prefix)
    if initiated_at_or_before_ms is not None:
        conditions.append(uploads.c.initiated_ms <= initiated_at_or_before_ms)
    total = Counts(0, 0, 0)
    for chosen in _chunks(upload_ids) if upload_ids is not None else [None]:
        where = conditions if chosen is None else [*conditions, uploads.c.upload_id.in_(chosen)]
        row = (await conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(uploads.c.part_count), 0),
                      sa.func.coalesce(sa.func.sum(uploads.c.part_bytes), 0)).where(*where)
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


async def counter_mismatches(conn: AsyncConnection) -> list[tuple[str, int, int, int, int]]:
    """Active uploads whose counters disagree with their parts: (upload_id, part_count,
    counted parts, part_bytes, counted bytes) — for fsck."""
    found = (
        sa.select(parts.c.upload_id, sa.func.count().label("n"), sa.func.sum(parts.c.size).label("size"))
        .group_by(parts.c.upload_id).subquery()
    )
    rows = await conn.execute(
        sa.select(uploads.c.upload_id, uploads.c.part_count, sa.func.coalesce(found.c.n, 0),
                  uploads.c.part_bytes, sa.func.coalesce(found.c.size, 0))
        .select_from(uploads.outerjoin(found, found.c.upload_id == uploads.c.upload_id))
        .where(uploads.c.state == ACTIVE,
               sa.or_(uploads.c.part_count != sa.func.coalesce(found.c.n, 0),
                      uploads.c.part_bytes != sa.func.coalesce(found.c.size, 0)))
    )
    return [tuple(r) for r in rows]


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
