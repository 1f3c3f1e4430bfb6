"""Lifecycle runs as the server and the admin command start them: one at a time across every
process sharing the metadata (a lease), each recorded in the run log from start to end.

The log keeps each outcome's totals and only its first few items (LOGGED): it says what a run
did, and is read a page of runs at a time; the full list of what a run names belongs to its
report, which the command or page that started it shows (docs/lifecycle.md, The run log).
"""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass
from typing import Any

from tessera.core.errors import TesseraError
from tessera.core.lifecycle import engine
from tessera.core.lifecycle.engine import ActedOn, Outcome, RunReport
from tessera.core.lifecycle.schedule import LifecycleSchedule
from tessera.core.processes import process_exists
from tessera.core.storage import Storage
from tessera.meta import leases
from tessera.meta import lifecycle as lifecycle_rows

LEASE = "lifecycle"
LEASE_MS = 15 * 60 * 1000  # renewed before every rule; a dead holder's lease lapses after this
LOGGED = 5  # items of each outcome kept in the run log


class LifecycleBusy(TesseraError):
    default_message = "Another lifecycle run is in progress."


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _died_on_this_host(holder: str) -> bool:
    """A holder on this host whose process is gone (crashed) need not be waited for."""
    host, _, pid = holder.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not process_exists(int(pid))


async def run_logged(storage: Storage, *, now_ms: int, trigger: str, bucket_name: str | None = None,
                     dry_run: bool = False, batch: int = engine.DEFAULT_BATCH,
                     named: int = engine.NAMED) -> tuple[int, RunReport]:
    """Run the rules under the lease (a dry run changes nothing and needs none), logging the run;
    returns (run ID, report), whose outcomes name up to ``named`` items each. Raises
    LifecycleBusy when another run holds the lease."""
    holder = holder_name()

    async def renew() -> None:
        if dry_run:
            return
        async with storage.db.write() as conn:
            clock = storage.clock()
            current = await leases.acquire(conn, LEASE, holder, now_ms=clock, expires_ms=clock + LEASE_MS)
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
                                  named=named, before_each_rule=renew)
        async with storage.db.write() as conn:
            await lifecycle_rows.finish_run(conn, run_id, finished_ms=storage.clock(),
                                            outcomes=[dataclasses.asdict(o.keeping(LOGGED)) for o in report.outcomes],
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
    outcomes: list[Outcome]  # naming up to LOGGED items each
    errors: list[dict[str, Any]]


async def recent_runs(storage: Storage, limit: int = 20, *, bucket_name: str | None = None) -> list[LoggedRun]:
    """The latest runs, newest first (with ``bucket_name``: the runs that could have acted on it —
    those of every bucket, and those of that bucket alone)."""
    async with storage.db.read() as conn:
        rows = await lifecycle_rows.recent_runs(conn, limit, bucket_name=bucket_name)
    return [LoggedRun(r.run_id, r.trigger, r.bucket, bool(r.dry_run), r.evaluated_at_ms, r.started_ms,
                      r.finished_ms, [_logged_outcome(o) for o in r.outcomes or []], r.errors or []) for r in rows]


async def last_run(storage: Storage, *, trigger: str | None = None) -> LoggedRun | None:
    """The latest run that is not a dry run (started by ``trigger`` when given), finished or not."""
    async with storage.db.read() as conn:
        row = await lifecycle_rows.last_run(conn, trigger=trigger)
    if row is None:
        return None
    return LoggedRun(row.run_id, row.trigger, row.bucket, bool(row.dry_run), row.evaluated_at_ms, row.started_ms,
                     row.finished_ms, [_logged_outcome(o) for o in row.outcomes or []], row.errors or [])


async def next_run_ms(storage: Storage, schedule: LifecycleSchedule, now_ms: int) -> int | None:
    """When the server following ``schedule`` runs the rules next (None: unknown)."""
    last = await last_run(storage, trigger="schedule") if schedule.every_seconds is not None else None
    return schedule.next_run_ms(now_ms, last_scheduled_ms=last.finished_ms if last else None)


def _logged_outcome(data: dict[str, Any]) -> Outcome:
    """An outcome as the log holds it. Runs logged before outcomes named their items kept only
    ``examples``, a few keys: those become items whose age and size are unknown (None)."""
    if "items" in data:
        items = [ActedOn(**item) for item in data["items"]]
    else:
        items = [ActedOn(key, None, None) for key in data.get("examples", [])]
    return Outcome(data["bucket"], data["rule_id"], data["action"], data["matched"], data["parts"], data["bytes"],
                   items, data["matched"] > len(items))
