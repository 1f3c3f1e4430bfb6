"""Lifecycle runs as the server and the admin command start them: one at a time across every
process sharing the metadata (a lease), each recorded in the run log from start to end."""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass
from typing import Any

from tessera.core.errors import TesseraError
from tessera.core.lifecycle import engine
from tessera.core.lifecycle.engine import RunReport
from tessera.core.processes import process_exists
from tessera.core.storage import Storage
from tessera.meta import leases
from tessera.meta import lifecycle as lifecycle_rows

LEASE = "lifecycle"
LEASE_MS = 15 * 60 * 1000  # renewed before every rule; a dead holder's lease lapses after this


class LifecycleBusy(TesseraError):
    default_message = "Another lifecycle run is in progress."


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _died_on_this_host(holder: str) -> bool:
    """A holder on this host whose process is gone (crashed) need not be waited for."""
    host, _, pid = holder.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not process_exists(int(pid))


async def run_logged(storage: Storage, *, now_ms: int, trigger: str, bucket_name: str | None = None,
                     dry_run: bool = False, batch: int = engine.DEFAULT_BATCH) -> tuple[int, RunReport]:
    """Run the rules under the lease (a dry run changes nothing and needs none), logging the run;
    returns (run ID, report). Raises LifecycleBusy when another run holds the lease."""
    holder = holder_name()

    async def renew() -> None:
        if dry_run:
            return
        async with storage.db.write() as conn:
            clock = storage.clock()
            current = await leases.acquire(conn, storage.db.insert, LEASE, holder, now_ms=clock,
                                           expires_ms=clock + LEASE_MS)
            if current is not None and _died_on_this_host(current):
                if await leases.take_over(conn, LEASE, from_holder=current, holder=holder,
                                          expires_ms=clock + LEASE_MS):
                    current = None
        if current is not None:
            raise LifecycleBusy(f"Another lifecycle run is in progress ({current}).")

    await renew()
    try:
        async with storage.db.write() as conn:
            run_id = await lifecycle_rows.start_run(conn, trigger=trigger, bucket=bucket_name, dry_run=dry_run,
                                                    evaluated_at_ms=now_ms, started_ms=storage.clock())
        report = await engine.run(storage, now_ms=now_ms, bucket_name=bucket_name, dry_run=dry_run, batch=batch,
                                  before_each_rule=renew)
        async with storage.db.write() as conn:
            await lifecycle_rows.finish_run(conn, run_id, finished_ms=storage.clock(),
                                            outcomes=[dataclasses.asdict(o) for o in report.outcomes],
                                            errors=report.errors)
    finally:
        if not dry_run:
            async with storage.db.write() as conn:
                await leases.release(conn, LEASE, holder)
    return run_id, report


@dataclass(frozen=True)
class LoggedRun:
    run_id: int
    trigger: str
    bucket: str | None
    dry_run: bool
    evaluated_at_ms: int
    started_ms: int
    finished_ms: int | None  # None: the run was interrupted
    outcomes: list[dict[str, Any]]
    errors: list[dict[str, Any]]


async def recent_runs(storage: Storage, limit: int = 20) -> list[LoggedRun]:
    async with storage.db.read() as conn:
        rows = await lifecycle_rows.recent_runs(conn, limit)
    return [LoggedRun(r.run_id, r.trigger, r.bucket, bool(r.dry_run), r.evaluated_at_ms, r.started_ms,
                      r.finished_ms, r.outcomes or [], r.errors or []) for r in rows]
