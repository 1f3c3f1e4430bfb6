"""``tessera admin …``: maintenance of the server's storage.

The storage engine is imported by each action when it runs, not with this module: building the
``tessera`` parser (which every client command does) must not load it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import json
import sys
from typing import Any, Callable

from tessera.core.clock import format_instant, parse_instant
from tessera.core.tuning import GC_GRACE_MS as DEFAULT_GRACE_MS
from tessera.core.tuning import LIFECYCLE_BATCH as DEFAULT_BATCH
from tessera.core.tuning import LIFECYCLE_NAMED as DEFAULT_NAMED

MAX_NAMED = 100_000


def add_parser(commands: Any, storage_options: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser("admin", help="maintenance of the server's storage (server side)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    gc = actions.add_parser("gc", help="reclaim blobs that nothing owns (safe while the server runs)")
    gc.add_argument("--grace-seconds", type=float, default=DEFAULT_GRACE_MS / 1000,
                    help="leave unfinished writes younger than this alone (default: one hour)")
    gc.add_argument("--release-delay-seconds", type=float, default=None,
                    help="keep released blobs this long for readers still streaming them (default: the "
                         "backend's own: 0 for file://, 15 minutes for s3://)")
    storage_options(gc)
    gc.set_defaults(run=lambda args: asyncio.run(_gc(args)))
    check = actions.add_parser("fsck", help="check that metadata and blob files agree (exit 1 if not)")
    storage_options(check)
    check.set_defaults(run=lambda args: asyncio.run(_fsck(args)))
    lifecycle = actions.add_parser("lifecycle", help="run the buckets' lifecycle rules")
    lifecycle_actions = lifecycle.add_subparsers(dest="lifecycle_action", required=True, metavar="ACTION")
    run = lifecycle_actions.add_parser("run", help="carry out (or, with --dry-run, preview) the rules now")
    run.add_argument("--bucket", help="only this bucket")
    run.add_argument("--now", type=_instant, help="evaluate the rules as if at this ISO 8601 instant")
    run.add_argument("--dry-run", action="store_true", help="show what would be done, change nothing")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.add_argument("--limit", type=_named_limit, default=DEFAULT_NAMED,
                     help=f"uploads or objects to name per rule and action (default {DEFAULT_NAMED}); "
                          "the totals count all of them")
    run.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH,
                     help=f"uploads or objects per query and per transaction (default {DEFAULT_BATCH})")
    storage_options(run)
    run.set_defaults(run=lambda args: asyncio.run(_lifecycle_run(args)))
    history = lifecycle_actions.add_parser("log", help="show the most recent lifecycle runs")
    history.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    history.add_argument("--json", action="store_true", help="print the runs as JSON")
    storage_options(history)
    history.set_defaults(run=lambda args: asyncio.run(_lifecycle_log(args)))
    usage = actions.add_parser("usage", help="storage usage from the usage ledger")
    usage_actions = usage.add_subparsers(dest="usage_action", required=True, metavar="ACTION")
    report = usage_actions.add_parser("report", help="GB-hours per bucket x storage class x kind over a window")
    report.add_argument("--bucket", help="only this bucket")
    report.add_argument("--from", dest="start", type=_instant, required=True, help="window start (ISO 8601)")
    report.add_argument("--to", dest="end", type=_instant, required=True, help="window end (ISO 8601)")
    report.add_argument("--format", choices=["table", "json", "csv"], default="table")
    report.add_argument("--top", type=int, default=10,
                        help="incomplete uploads (by part storage) and early deletions (by cost) to list "
                             "(default 10)")
    storage_options(report)
    report.set_defaults(run=lambda args: asyncio.run(_usage_report(args)))
    forgotten = usage_actions.add_parser("uploads", help="incomplete uploads: who holds part storage, and how old")
    forgotten.add_argument("--bucket", help="only this bucket")
    forgotten.add_argument("--limit", type=int, default=20, help="uploads to list, largest first (default 20)")
    forgotten.add_argument("--json", action="store_true")
    storage_options(forgotten)
    forgotten.set_defaults(run=lambda args: asyncio.run(_usage_uploads(args)))


def _batch_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 10000, not {text!r}")
    return int(text)


def _named_limit(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_NAMED:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_NAMED}, not {text!r}")
    return int(text)


def _instant(text: str) -> int:
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None


async def _lifecycle_run(args: argparse.Namespace) -> int:
    from tessera.cli.runtime import open_storage
    from tessera.core.lifecycle import runs as lifecycle_runs

    storage = await open_storage(args)
    try:
        now_ms = args.now if args.now is not None else storage.clock()
        run_id, report = await lifecycle_runs.run_logged(storage, now_ms=now_ms, trigger="admin",
                                                         bucket_name=args.bucket, dry_run=args.dry_run,
                                                         batch=args.batch_size, named=args.limit)
    except lifecycle_runs.LifecycleBusy as busy:
        print(f"tessera: {busy.message}", file=sys.stderr)
        return 1
    finally:
        await storage.db.close()
    if args.json:
        print(json.dumps({"run_id": run_id, "now": format_instant(report.now_ms), "dry_run": report.dry_run,
                          "outcomes": [dataclasses.asdict(o) for o in report.outcomes],
                          "errors": report.errors}, indent=2))
        return 1 if report.errors else 0
    from tessera.cli.lifecycle_text import outcome_lines

    verb = "would act on" if report.dry_run else "acted on"
    print(f"lifecycle run {run_id} at {format_instant(report.now_ms)}{' (dry run)' if report.dry_run else ''}")
    print("\n".join(outcome_lines(report.outcomes)))
    for error in report.errors:
        print(f"ERROR bucket {error['bucket']} rule {error['rule_id']}: {error['error']}")
    total = sum(o.matched for o in report.outcomes)
    print(f"{verb} {total} upload(s)/object(s), {sum(o.bytes for o in report.outcomes)} bytes")
    return 1 if report.errors else 0


async def _lifecycle_log(args: argparse.Namespace) -> int:
    from tessera.cli.lifecycle_text import outcome_lines
    from tessera.cli.runtime import open_storage
    from tessera.core.lifecycle import runs as lifecycle_runs

    storage = await open_storage(args)
    try:
        runs = await lifecycle_runs.recent_runs(storage, args.limit)
    finally:
        await storage.db.close()
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in runs], indent=2))
        return 0
    for r in runs:
        ended = f"finished {format_instant(r.finished_ms)}" if r.finished_ms is not None else "INTERRUPTED (no end recorded)"
        scope = f"bucket {r.bucket}" if r.bucket else "all buckets"
        print(f"run {r.run_id}: {r.trigger}{' dry run' if r.dry_run else ''}, {scope}, as of {format_instant(r.evaluated_at_ms)}; "
              f"started {format_instant(r.started_ms)}, {ended}")
        print("\n".join(outcome_lines(r.outcomes)))
        for error in r.errors:
            print(f"  ERROR bucket {error['bucket']} rule {error['rule_id']}: {error['error']}")
    return 0


async def _usage_report(args: argparse.Namespace) -> int:
    from tessera.cli.runtime import open_storage
    from tessera.core.reports import usage_report

    if args.end <= args.start:
        print("tessera: --to must be later than --from", file=sys.stderr)
        return 2
    storage = await open_storage(args)
    try:
        report = await usage_report(storage, start_ms=args.start, end_ms=args.end, bucket_name=args.bucket,
                                    top=args.top)
    finally:
        await storage.db.close()
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=[*report["lines"][0]] if report["lines"] else USAGE_FIELDS)
        writer.writeheader()
        writer.writerows(report["lines"])
        return 0
    currency = report["currency"]
    print(f"storage from {report['from']} to {report['to']} (GB = 2^30 bytes; kind 'part' = parts of "
          f"incomplete uploads, 'early-deletion' = the rest of minimum storage durations; "
          f"prices: {report['prices_source']})")
    print(f"  {'bucket':<24} {'kind':<14} {'class':<16} {'billed GB-h':>16} {'real GB-h':>16} {'cost ' + currency:>14}")
    for r in report["lines"]:
        print(f"  {r['bucket']:<24} {r['kind']:<14} {r['storage_class']:<16} {r['billed_gb_hours']:>16.6g} "
              f"{r['real_gb_hours']:>16.6g} {r['cost']:>14.6g}")
    print(f"  {'total':<89} {report['total_cost']:>14.6g}")
    if report["uploads"]:
        print(f"part storage held by incomplete uploads in this window (top {len(report['uploads'])} "
              f"of {report['uploads_total']}):")
        print(f"  {'bucket':<20} {'key':<30} {'upload id':<32} {'initiator':<20} {'age (d)':>8} {'GB-h':>12} "
              f"{'cost ' + currency:>12}")
        for u in report["uploads"]:
            print(f"  {u['bucket']:<20} {u['key']:<30} {u['upload_id']:<32} {u['initiator']:<20} "
                  f"{u['age_days']:>8.1f} {u['billed_gb_hours']:>12.6g} {u['cost']:>12.6g}")
    if report["early_deletions"]:
        print(f"objects that left a storage class before its minimum duration (top {len(report['early_deletions'])} "
              f"of {report['early_deletions_total']}):")
        print(f"  {'bucket':<20} {'key':<30} {'class':<16} {'left at':<25} {'stored (d)':>10} {'charged (d)':>11} "
              f"{'billed bytes':>14} {'cost ' + currency:>12}")
        for e in report["early_deletions"]:
            print(f"  {e['bucket']:<20} {e['key']:<30} {e['storage_class']:<16} {e['at']:<25} "
                  f"{e['stored_days']:>10.2f} "
                  f"{e['charged_days']:>11.2f} {e['billed_bytes']:>14} {e['cost']:>12.6g}")
    return 0


USAGE_FIELDS = ["bucket", "kind", "storage_class", "billed_gb_hours", "real_gb_hours", "cost"]


async def _usage_uploads(args: argparse.Namespace) -> int:
    from tessera.cli.runtime import open_storage
    from tessera.core.reports import uploads_report

    storage = await open_storage(args)
    try:
        report = await uploads_report(storage, bucket_name=args.bucket, limit=args.limit)
    finally:
        await storage.db.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    currency = report["currency"]
    for ages in report["ages"]:
        print(f"bucket {ages['bucket']}: incomplete uploads by age")
        for band in ages["bands"]:
            print(f"  {band['label']:<10} {band['uploads']:>8} uploads {band['parts']:>10} parts "
                  f"{band['bytes']:>16} bytes {band['monthly_cost']:>12.6g} {currency}/month")
    if report["uploads"]:
        print(f"largest incomplete uploads (of {report['uploads_total']}):")
        print(f"  {'bucket':<20} {'key':<30} {'upload id':<32} {'initiator':<20} {'age (d)':>8} {'parts':>6} "
              f"{'bytes':>14} {currency + '/month':>12}")
        for u in report["uploads"]:
            print(f"  {u['bucket']:<20} {u['key']:<30} {u['upload_id']:<32} {u['initiator']:<20} {u['age_days']:>8.1f} "
                  f"{u['parts']:>6} {u['bytes']:>14} {u['monthly_cost']:>12.6g}")
    else:
        print("no incomplete uploads")
    return 0


async def _gc(args: argparse.Namespace) -> int:
    from tessera.cli.runtime import open_storage
    from tessera.core.collector import collect

    storage = await open_storage(args)
    try:
        delay = None if args.release_delay_seconds is None else int(args.release_delay_seconds * 1000)
        report = await collect(storage, grace_ms=int(args.grace_seconds * 1000), release_delay_ms=delay)
    finally:
        await storage.db.close()
    print(f"stale pending blobs: {report.stale_pending}")
    print(f"garbage blobs freed: {report.garbage_freed}")
    print(f"orphan files removed: {report.orphan_files}")
    print(f"interrupted writes removed: {report.interrupted_writes}")  # temporary files, or upstream uploads
    return 0


async def _fsck(args: argparse.Namespace) -> int:
    from tessera.cli.runtime import open_storage
    from tessera.core.fsck import fsck

    storage = await open_storage(args)
    try:
        report = await fsck(storage)
    finally:
        await storage.db.close()
    print(f"referenced blobs: {report.referenced}")
    print(f"blob files: {report.files}")
    print(f"unreferenced files: {len(report.unreferenced_files)}")
    print(f"blob bytes on disk: {report.file_bytes}")
    print(f"blob bytes owned: {report.owned_bytes}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("ok" if report.ok else f"{len(report.problems)} problem(s)")
    return 0 if report.ok else 1
