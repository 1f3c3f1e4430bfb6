"""Storage usage over a time window, from the usage ledger: exact GB-hours per bucket × storage
class × kind (objects, and the parts of incomplete uploads on lines of their own)."""

from __future__ import annotations

from tessera.core.metering import UPLOAD, UsageLine, integrate
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import usage as usage_rows


async def storage_usage(storage: Storage, *, start_ms: int, end_ms: int,
                        bucket_name: str | None = None) -> list[UsageLine]:
    async with storage.db.read() as conn:
        bucket_id = (await bucket_rows.get(conn, bucket_name)).bucket_id if bucket_name else None
        levels = await usage_rows.ledger_levels(conn, start_ms, bucket_id)
        changes = await usage_rows.ledger_changes(conn, start_ms, end_ms, bucket_id)
        names = await usage_rows.bucket_names(conn)

    def counter(row) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
        return row.bucket_id, row.storage_class, row.kind

    totals = integrate(
        {counter(r): (int(r.billed), int(r.bytes)) for r in levels if r.kind != UPLOAD},
        [(counter(r), r.at_ms, r.billed_delta, r.bytes_delta) for r in changes if r.kind != UPLOAD],
        start_ms, end_ms,
    )
    lines = [UsageLine(names.get(bucket_id, f"(deleted bucket {bucket_id})"), storage_class, kind, billed, real)
             for (bucket_id, storage_class, kind), (billed, real) in totals.items() if billed or real]
    return sorted(lines, key=lambda line: (line.bucket, line.kind, line.storage_class))
