"""``tessera admin …``: maintenance of the server's storage."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, Callable

from tessera.cli.runtime import open_storage
from tessera.core.collector import DEFAULT_GRACE_MS, collect
from tessera.core.fsck import fsck


def add_parser(commands: Any, storage_options: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser("admin", help="maintenance of the server's storage (server side)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    gc = actions.add_parser("gc", help="reclaim blobs that nothing owns (safe while the server runs)")
    gc.add_argument("--grace-seconds", type=float, default=DEFAULT_GRACE_MS / 1000,
                    help="leave unfinished writes younger than this alone (default: one hour)")
    storage_options(gc)
    gc.set_defaults(run=lambda args: asyncio.run(_gc(args)))
    check = actions.add_parser("fsck", help="check that metadata and blob files agree (exit 1 if not)")
    storage_options(check)
    check.set_defaults(run=lambda args: asyncio.run(_fsck(args)))


async def _gc(args: argparse.Namespace) -> int:
    storage = await open_storage(args)
    try:
        report = await collect(storage, grace_ms=int(args.grace_seconds * 1000))
    finally:
        await storage.db.close()
    print(f"stale pending blobs: {report.stale_pending}")
    print(f"garbage blobs freed: {report.garbage_freed}")
    print(f"orphan files removed: {report.orphan_files}")
    print(f"temp files removed: {report.temp_files}")
    return 0


async def _fsck(args: argparse.Namespace) -> int:
    storage = await open_storage(args)
    try:
        report = await fsck(storage)
    finally:
        await storage.db.close()
    print(f"referenced blobs: {report.referenced}")
    print(f"blob files: {report.files}")
    print(f"unreferenced files: {len(report.unreferenced_files)}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("ok" if report.ok else f"{len(report.problems)} problem(s)")
    return 0 if report.ok else 1
