"""Usage counters per bucket × storage class × kind (object | part | upload), kept exact.

The functions that change object, upload and part rows record what they change with ``record``
on the transaction's connection; ``flush`` applies the sums in one upsert per counter when the
transaction commits (``Database.write``), in a fixed order, so concurrent writers neither lose
updates nor deadlock. Nothing is ever recounted by scanning.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.metering import billed_size
from tessera.meta.schema import usage

_PENDING = "tessera.usage"
Counter = tuple[int, str, str]  # bucket_id, storage_class, kind


def record(conn: AsyncConnection, bucket_id: int, storage_class: str, kind: str, *, count: int, sizes: list[int],
           sign: int = 1) -> None:
    """Count ``count`` objects/parts/uploads of ``sizes`` in (+1) or out (-1) of a counter."""
    pending: dict[Counter, list[int]] = conn.info.setdefault(_PENDING, defaultdict(lambda: [0, 0, 0]))
    totals = pending[(bucket_id, storage_class, kind)]
    totals[0] += sign * count
    totals[1] += sign * sum(sizes)
    totals[2] += sign * sum(billed_size(kind, storage_class, s) for s in sizes)


def discard(conn: AsyncConnection) -> None:
    conn.info.pop(_PENDING, None)


async def flush(conn: AsyncConnection) -> None:
    pending: dict[Counter, list[int]] = conn.info.pop(_PENDING, {})
    upsert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    for (bucket_id, storage_class, kind), (count, size, billed) in sorted(pending.items()):
        if count == size == billed == 0:
            continue
        statement = upsert(usage).values(bucket_id=bucket_id, storage_class=storage_class, kind=kind,
                                         count=count, bytes=size, billed_bytes=billed)
        await conn.execute(statement.on_conflict_do_update(
            index_elements=[usage.c.bucket_id, usage.c.storage_class, usage.c.kind],
            set_={"count": usage.c.count + statement.excluded.count,
                  "bytes": usage.c.bytes + statement.excluded.bytes,
                  "billed_bytes": usage.c.billed_bytes + statement.excluded.billed_bytes},
        ))


async def for_bucket(conn: AsyncConnection, bucket_id: int) -> list[Any]:
    return list(await conn.execute(sa.select(usage).where(usage.c.bucket_id == bucket_id)))


async def drop_bucket(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(sa.delete(usage).where(usage.c.bucket_id == bucket_id))
