"""``tessera cp``: copy files and directories to and from OSS — multipart and resumable, CRC-64
checked end to end, with a progress bar on a terminal."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import alibabacloud_oss_v2 as oss

from tessera.cli.client.common import UsageError, add_connection_options, client_command, human_size, print_json
from tessera.client.transfer.batch import run_copies
from tessera.client.transfer.checkpoint import DEFAULT_DIRECTORY, CheckpointStore
from tessera.client.transfer.download import download_file
from tessera.client.transfer.model import DEFAULT_PARALLEL, DEFAULT_THRESHOLD, TransferOptions, TransferResult
from tessera.client.transfer.plan import DownloadItem, PlanError, UploadItem, plan_download, plan_upload
from tessera.client.transfer.progress import Progress
from tessera.client.transfer.sizes import MAX_PARTS, MIN_PART_SIZE, parse_size
from tessera.client.transfer.upload import upload_file
from tessera.core.models import STORAGE_CLASSES
from tessera.client.urls import is_oss_url, parse_url

MAX_PARALLEL = 16  # the SDK keeps 20 connections; more would be opened and thrown away


def add_parsers(commands: Any) -> None:
    parser = commands.add_parser(
        "cp", help="copy files to or from OSS (-r for directories; multipart, resumable, CRC-64 checked)",
        epilog="A destination ending in '/' (or an existing directory) means 'into'. -r copies what is inside "
               "a directory or under a prefix. Files of --bigfile-threshold or more go in parts; an interrupted "
               "copy continues where it stopped when the same command is run again.")
    parser.add_argument("source", metavar="SRC", help="a local file or directory, or oss://BUCKET/KEY[/]")
    parser.add_argument("destination", metavar="DST", help="oss://BUCKET[/KEY or PREFIX/], or a local path")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="copy a directory tree to a prefix, or everything under a prefix to a directory")
    overwrite = parser.add_mutually_exclusive_group()
    overwrite.add_argument("-f", "--force", action="store_true", help="overwrite existing destinations without asking")
    overwrite.add_argument("-u", "--update", action="store_true",
                           help="copy only what is missing at the destination or newer than it there")
    parser.add_argument("--bigfile-threshold", type=_size, default=DEFAULT_THRESHOLD, metavar="SIZE",
                        help="files this large or larger go in parts or ranges (default 100MiB)")
    parser.add_argument("--part-size", type=_part_size, metavar="SIZE",
                        help="size of a part or range (default: a 32nd of the file, from 8MiB to 64MiB, "
                             "more if 10000 parts need it)")
    parser.add_argument("--parallel", type=_parallel, default=DEFAULT_PARALLEL, metavar="N",
                        help=f"requests in flight: parts of a large file, or small files at once "
                             f"(default {DEFAULT_PARALLEL}, at most {MAX_PARALLEL})")
    parser.add_argument("--storage-class", choices=STORAGE_CLASSES, help="storage class of uploaded objects")
    parser.add_argument("--checkpoint-dir", default=DEFAULT_DIRECTORY, metavar="DIR",
                        help=f"where interrupted copies are recorded (default ./{DEFAULT_DIRECTORY}; removed when "
                             f"empty)")
    parser.add_argument("--max-speed", type=_speed, metavar="SIZE",
                        help="at most this many bytes a second, e.g. 10MiB; a slow moment is not made up for "
                             "by a burst afterwards (default: no limit)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and nothing on stdout")
    parser.add_argument("-j", "--json", action="store_true", help="print the summary as JSON")
    add_connection_options(parser)
    # cp computes every part's CRC-64 while reading it and compares it with the server's itself.
    parser.set_defaults(run=client_command(_copy, sdk_checks_uploads=False))


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _speed(text: str) -> int:
    speed = _size(text)
    if speed < 1:
        raise argparse.ArgumentTypeError("--max-speed must be at least 1 byte a second")
    return speed


def _part_size(text: str) -> int:
    size = _size(text)
    if size < MIN_PART_SIZE:
        raise argparse.ArgumentTypeError(f"a part must be at least {human_size(MIN_PART_SIZE)}")
    return size


def _parallel(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PARALLEL:
        raise argparse.ArgumentTypeError(f"give a number from 1 to {MAX_PARALLEL}")
    return int(text)


def _copy(args: argparse.Namespace, client: oss.Client) -> int:
    from_oss, to_oss = is_oss_url(args.source), is_oss_url(args.destination)
    if from_oss == to_oss:
        raise UsageError("copying from oss:// to oss:// is not supported yet" if from_oss else
                         "one of SRC and DST must be an oss:// URL and the other a local path")
    uploading = to_oss
    options = TransferOptions(threshold=args.bigfile_threshold, part_size=args.part_size, parallel=args.parallel,
                              storage_class=args.storage_class, checkpoint_dir=Path(args.checkpoint_dir))
    store = CheckpointStore(options.checkpoint_dir)
    items, directories = _plan(args, client, options, uploading)
    chosen, skipped = _choose(items, args)
    for directory in directories:  # from directory markers: they hold no bytes, but the tree has them
        directory.mkdir(parents=True, exist_ok=True)
    show_bar = not args.quiet and sys.stderr.isatty()
    progress = Progress(sum(item.size for item in chosen), len(chosen), bar_to=sys.stderr if show_bar else None,
                        max_rate=args.max_speed)

    def copy_one(item: UploadItem | DownloadItem, cancelled: threading.Event | None) -> TransferResult:
        if isinstance(item, UploadItem):
            result = upload_file(client, item.source, item.bucket, item.key, options, progress, store, cancelled)
        else:
            result = download_file(client, item.bucket, item.key, item.destination, options, progress, store,
                                   cancelled)
        progress.file_done()
        return result

    started = time.monotonic()
    results: list[TransferResult] = []
    try:
        for result in run_copies(copy_one, chosen, options):
            results.append(result)
            if not (show_bar or args.quiet or args.json):
                print(_describe(result, uploading), flush=True)
    except KeyboardInterrupt:
        progress.close()  # the message goes on a line of its own
        print("tessera: interrupted; run the same command again to continue", file=sys.stderr)
        return 130
    finally:
        progress.close()
    elapsed = time.monotonic() - started
    if args.json:
        print_json(_summary_json(results, skipped, elapsed))
    elif not args.quiet:
        print(_summary_line(results, skipped, elapsed))
    return 0


def _plan(args: argparse.Namespace, client: oss.Client, options: TransferOptions,
          uploading: bool) -> tuple[list[Any], list[Path]]:
    """What to copy, and the directories to make; refused (exit 2) before anything changes."""
    try:
        if uploading:
            uploads = plan_upload(client, args.source, parse_url(args.destination), recursive=args.recursive,
                                  skip=options.checkpoint_dir)
            _check_part_counts(uploads, options)
            return uploads, []
        plan = plan_download(client, parse_url(args.source), args.destination, recursive=args.recursive)
        return plan.items, plan.directories
    except PlanError as error:
        raise UsageError(str(error)) from None


def _check_part_counts(items: list[UploadItem], options: TransferOptions) -> None:
    if options.part_size is None:
        return
    for item in items:
        if item.size >= options.threshold and -(-item.size // options.part_size) > MAX_PARTS:
            raise UsageError(f"--part-size {human_size(options.part_size)} cuts {item.source} into more than "
                             f"{MAX_PARTS} parts; give a larger one (or none)")


def _choose(items: list[Any], args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    """The items to copy and those skipped: an existing destination is overwritten with -f, with
    -u only by something newer, else only when the user says so at the terminal."""
    chosen, skipped, conflicts = [], [], []
    for item in items:
        if item.existing_mtime is None or args.force:
            chosen.append(item)
        elif args.update:
            (chosen if item.mtime > item.existing_mtime else skipped).append(item)
        else:
            conflicts.append(item)
    if conflicts and not sys.stdin.isatty():
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise UsageError(f"{conflicts[0].destination} exists{more}; -f overwrites, -u copies only newer files")
    for item in conflicts:
        answer = input(f"overwrite {item.destination}? [y/N] ").strip().lower()
        (chosen if answer in ("y", "yes") else skipped).append(item)
    order = {id(item): index for index, item in enumerate(items)}
    return sorted(chosen, key=lambda item: order[id(item)]), skipped


def _describe(result: TransferResult, uploading: bool) -> str:
    details = human_size(result.size)
    if result.parts > 1:
        details += f", {result.parts} parts"
        if result.resumed_parts:
            details += f", {result.resumed_parts} already there"
    return f"{'uploaded' if uploading else 'downloaded'} {result.source} -> {result.destination} ({details})"


def _summary_line(results: list[TransferResult], skipped: list[Any], elapsed: float) -> str:
    size = sum(result.size for result in results)
    transferred = sum(result.transferred for result in results)
    files = f"{len(results)} file{'' if len(results) == 1 else 's'}"
    this_run = f" ({human_size(transferred)} this run)" if transferred != size else ""
    line = (f"copied {files}, {human_size(size)}{this_run} in {elapsed:.2f} s "
            f"({human_size(int(transferred / elapsed) if elapsed > 0 else 0)}/s)")
    if skipped:
        line += f"; skipped {len(skipped)} existing"
    return line


def _summary_json(results: list[TransferResult], skipped: list[Any], elapsed: float) -> dict[str, Any]:
    transferred = sum(result.transferred for result in results)
    return {
        "files": [result.to_json() for result in results],
        "skipped": [str(item.destination) for item in skipped],
        "bytes": sum(result.size for result in results),
        "transferred": transferred,
        "elapsed_seconds": round(elapsed, 3),
        "bytes_per_second": int(transferred / elapsed) if elapsed > 0 else 0,
    }
