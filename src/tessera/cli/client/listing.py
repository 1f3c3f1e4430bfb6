"""``tessera ls``, ``list-parts`` and ``du``: buckets, objects, incomplete multipart uploads and
their parts, and what a bucket or prefix holds per storage class."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Generic, Iterable, Iterator, TypeVar

import alibabacloud_oss_v2 as oss

from tessera.cli.client.buckets import bucket_stat
from tessera.cli.client.common import UsageError, add_connection_options, client_command, human_size, print_json
from tessera.cli.client.formats import (
    Lines,
    bucket_json,
    counted,
    directory_json,
    object_json,
    part_json,
    positive_int,
    size_text,
    upload_json,
    utc_text,
)
from tessera.client.listing import (
    DEFAULT_JOBS,
    PAGE_SIZE,
    DirectoryEntry,
    ObjectEntry,
    UploadEntry,
    iter_buckets,
    iter_objects,
    iter_parts,
    iter_uploads,
    with_part_totals,
)
from tessera.client.session import error_code
from tessera.client.urls import OssUrl, parse_url
from tessera.client.usage import ClassUsage, Usage, measure

T = TypeVar("T")

# Bucket statistics shown next to a whole-bucket ``du``, when the server has them.
STAT_FIELDS = ["ObjectCount", "Storage", "MultipartUploadCount", "MultipartPartCount", "MultipartPartStorage"]

LS_EPILOG = """\
examples:
  tessera ls                                  buckets
  tessera ls oss://bucket/photos/ -d          one level: objects and directories
  tessera ls oss://bucket -m                  incomplete uploads, with their parts counted
  tessera ls oss://bucket -a --limited-num 10 at most 10 objects and 10 uploads
  tessera ls oss://bucket -s | wc -l          URLs only (the summary goes to stderr)
"""


def add_jobs_option(parser: argparse.ArgumentParser, requests: str = "ListParts") -> None:
    parser.add_argument("--jobs", type=positive_int, default=DEFAULT_JOBS, metavar="N",
                        help=f"{requests} requests in flight at once (default {DEFAULT_JOBS})")


def add_parsers(commands: Any) -> None:
    ls = commands.add_parser("ls", help="list buckets; or objects under oss://BUCKET[/PREFIX], incomplete multipart "
                                        "uploads (-m) with their parts, or both (-a)",
                             epilog=LS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ls.add_argument("url", nargs="?", metavar="oss://BUCKET[/PREFIX]", help="without it: the buckets")
    ls.add_argument("-d", "--directory", action="store_true",
                    help="objects one level deep: keys below the next '/' are shown as their directory "
                         "(uploads are always listed in full)")
    ls.add_argument("-s", "--short", action="store_true", help="URLs only (uploads: UPLOAD_ID URL); no part counts")
    ls.add_argument("-m", "--multipart", action="store_true", help="incomplete multipart uploads instead of objects")
    ls.add_argument("-a", "--all-type", action="store_true", help="objects, then incomplete multipart uploads")
    ls.add_argument("--limited-num", type=positive_int, metavar="N",
                    help="stop after N entries (of each kind with -a)")
    ls.add_argument("--no-parts", action="store_true",
                    help="do not count each upload's parts (saves one ListParts request per upload)")
    add_jobs_option(ls)
    ls.add_argument("-j", "--json", action="store_true", help="print JSON")
    add_connection_options(ls)
    ls.set_defaults(run=client_command(_ls))

    parts = commands.add_parser("list-parts", help="the parts of one incomplete multipart upload")
    parts.add_argument("url", metavar="oss://BUCKET/KEY")
    parts.add_argument("upload_id", metavar="UPLOAD_ID")
    parts.add_argument("-j", "--json", action="store_true", help="print JSON")
    add_connection_options(parts)
    parts.set_defaults(run=client_command(_list_parts))

    du = commands.add_parser("du", help="objects and parts of incomplete uploads under oss://BUCKET[/PREFIX]: "
                                        "counts and bytes per storage class")
    du.add_argument("url", metavar="oss://BUCKET[/PREFIX]")
    add_jobs_option(du)
    du.add_argument("-j", "--json", action="store_true", help="print JSON")
    add_connection_options(du)
    du.set_defaults(run=client_command(_du))


class Capped(Generic[T]):
    """At most ``limit`` items; ``more`` tells afterwards whether the source had others."""

    def __init__(self, items: Iterable[T], limit: int | None) -> None:
        self.items = items
        self.limit = limit
        self.more = False

    def __iter__(self) -> Iterator[T]:
        for number, item in enumerate(self.items):
            if self.limit is not None and number >= self.limit:
                self.more = True
                return
            yield item


def _page_size(limit: int | None) -> int:
    return PAGE_SIZE if limit is None else min(PAGE_SIZE, limit + 1)  # + 1: to know whether more remain


def _ls(args: argparse.Namespace, client: oss.Client) -> int:
    if args.url is None or args.url.lower() == "oss://":
        if args.directory or args.multipart or args.all_type:
            raise UsageError("-d, -m and -a list inside a bucket: give oss://BUCKET[/PREFIX]")
        return _list_buckets(args, client)
    url = parse_url(args.url)
    report: dict[str, Any] = {"url": str(url)}
    truncated = False
    if args.all_type or not args.multipart:
        truncated |= _list_objects(args, client, url, report)
    if args.all_type or args.multipart:
        if args.all_type and not args.json and not args.short:
            print()
        truncated |= _list_uploads(args, client, url, report)
    if args.json:
        print_json({**report, "truncated": truncated})
    return 0


def _summarize(args: argparse.Namespace, line: str) -> None:
    """A listing's last line; with -s it goes to stderr, so that stdout holds only URLs."""
    if not args.json:
        print(line, file=sys.stderr if args.short else sys.stdout)


def _stopped(capped: Capped[Any]) -> str:
    return f" (stopped at --limited-num {capped.limit}; more remain)" if capped.more else ""


def _list_buckets(args: argparse.Namespace, client: oss.Client) -> int:
    buckets = Capped(iter_buckets(client), args.limited_num)
    shown = []
    lines = Lines(None if args.short else f"{'Created (UTC)':<19}  {'Location':<20}  {'Storage class':<15}  Bucket")
    for bucket in buckets:
        shown.append(bucket)
        if args.json:
            continue
        url = OssUrl(bucket.name)
        lines.print(url if args.short else f"{utc_text(bucket.creation_date):<19}  {bucket.location or '-':<20}  "
                                           f"{bucket.storage_class or '-':<15}  {url}")
    if args.json:
        print_json({"buckets": [bucket_json(bucket) for bucket in shown], "summary": {"buckets": len(shown)},
                    "truncated": buckets.more})
    else:
        _summarize(args, counted(len(shown), "bucket") + _stopped(buckets))
    return 0


def _list_objects(args: argparse.Namespace, client: oss.Client, url: OssUrl, report: dict[str, Any]) -> bool:
    entries = Capped(iter_objects(client, url.bucket, url.key, delimited=args.directory,
                                  page_size=_page_size(args.limited_num)), args.limited_num)
    objects: list[dict[str, Any]] = []
    directories: list[dict[str, Any]] = []
    count = size = dirs = 0
    lines = Lines(None if args.short else
                  f"{'Last modified (UTC)':<19}  {'Size':>14}  {'Storage class':<15}  {'ETag':<34}  URL")
    for entry in entries:
        if isinstance(entry, DirectoryEntry):
            dirs += 1
            if args.json:
                directories.append(directory_json(url.bucket, entry))
            else:
                entry_url = OssUrl(url.bucket, entry.prefix)
                lines.print(entry_url if args.short else f"{'':<19}  {'':>14}  {'DIR':<15}  {'':<34}  {entry_url}")
            continue
        assert isinstance(entry, ObjectEntry)
        count += 1
        size += entry.size
        if args.json:
            objects.append(object_json(url.bucket, entry))
        else:
            entry_url = OssUrl(url.bucket, entry.key)
            lines.print(entry_url if args.short else
                        f"{utc_text(entry.last_modified):<19}  {entry.size:>14}  {entry.storage_class or '-':<15}  "
                        f"{entry.etag or '-':<34}  {entry_url}")
    report["objects"] = objects
    summary: dict[str, int] = {"objects": count, "object_bytes": size}
    line = f"{counted(count, 'object')}, {size_text(size)}"
    if args.directory:
        report["directories"] = directories
        summary["directories"] = dirs
        line += f", {counted(dirs, 'directory', 'directories')}"
    report.setdefault("summary", {}).update(summary)
    _summarize(args, line + _stopped(entries))
    return entries.more


def _list_uploads(args: argparse.Namespace, client: oss.Client, url: OssUrl, report: dict[str, Any]) -> bool:
    listed = Capped(iter_uploads(client, url.bucket, url.key, page_size=_page_size(args.limited_num)),
                    args.limited_num)
    with_parts = not (args.no_parts or args.short)
    uploads: Iterable[UploadEntry] = (with_part_totals(client, url.bucket, listed, jobs=args.jobs) if with_parts
                                      else listed)
    shown: list[dict[str, Any]] = []
    count = parts = size = 0
    columns = f"{'Parts':>6}  {'Size':>14}  {'Storage class':<15}  " if with_parts else ""
    lines = Lines(None if args.short else f"{'Initiated (UTC)':<19}  {columns}{'Upload ID':<32}  URL")
    for upload in uploads:
        count += 1
        if upload.parts is not None:
            parts += upload.parts.count
            size += upload.parts.size
        if args.json:
            shown.append(upload_json(url.bucket, upload))
            continue
        upload_url = OssUrl(url.bucket, upload.key)
        if args.short:
            lines.print(f"{upload.upload_id} {upload_url}")
            continue
        columns = (f"{upload.parts.count:>6}  {upload.parts.size:>14}  {upload.parts.storage_class or '-':<15}  "
                   if upload.parts is not None else "")
        lines.print(f"{utc_text(upload.initiated):<19}  {columns}{upload.upload_id:<32}  {upload_url}")
    report["uploads"] = shown
    summary: dict[str, int] = {"uploads": count}
    line = counted(count, "incomplete upload")
    if with_parts:
        summary.update(parts=parts, part_bytes=size)
        line += f", {counted(parts, 'part')}, {size_text(size)}"
    report.setdefault("summary", {}).update(summary)
    _summarize(args, line + _stopped(listed))
    return listed.more


def _list_parts(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, need_key=True)
    storage_class = None
    parts = []
    lines = Lines(f"{'Part':>5}  {'Size':>14}  {'ETag':<34}  {'Last modified (UTC)':<19}  CRC64")
    for page_class, part in iter_parts(client, url.bucket, url.key, args.upload_id):
        storage_class = storage_class or page_class
        parts.append(part)
        if not args.json:
            lines.print(f"{part.part_number:>5}  {part.size:>14}  {part.etag or '-':<34}  "
                        f"{utc_text(part.last_modified):<19}  {part.crc64 or '-'}")
    size = sum(part.size for part in parts)
    if args.json:
        print_json({"url": str(url), "upload_id": args.upload_id, "storage_class": storage_class,
                    "parts": [part_json(part) for part in parts], "summary": {"parts": len(parts), "bytes": size}})
    else:
        print(f"{counted(len(parts), 'part')}, {size_text(size)}; upload {args.upload_id} of {url}"
              + (f", storage class {storage_class}" if storage_class else ""))
    return 0


def _du(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url)
    usage = measure(client, url.bucket, url.key, jobs=args.jobs)
    stat = _bucket_stat(client, url.bucket) if not url.key else None
    if args.json:
        shown: dict[str, Any] = {"url": str(url),
                                 "storage_classes": {name: _usage_json(counts) for name, counts in
                                                     sorted(usage.by_class.items())},
                                 "total": _usage_json(usage.total)}
        if stat is not None:
            shown["bucket_stat"] = stat
        print_json(shown)
        return 0
    _print_usage(url, usage)
    if stat is not None:
        print("GetBucketStat (the server's counters): "
              + (", ".join(f"{name} {value}" for name, value in stat.items()) or "no counters"))
    return 0


def _bucket_stat(client: oss.Client, bucket: str) -> dict[str, Any]:
    """GetBucketStat's object and part figures; a server that refuses it still gets its du."""
    try:
        every = bucket_stat(client, bucket)
    except Exception as error:
        if error_code(error) is None or error_code(error) == "NoSuchBucket":
            raise
        return {"error": error_code(error)}
    return {name: every[name] for name in STAT_FIELDS if name in every}


def _usage_json(usage: ClassUsage) -> dict[str, int]:
    return {"objects": usage.objects, "object_bytes": usage.object_bytes, "uploads": usage.uploads,
            "parts": usage.parts, "part_bytes": usage.part_bytes, "stored_bytes": usage.stored_bytes}


def _print_usage(url: OssUrl, usage: Usage) -> None:
    print(f"{'Storage class':<15}  {'Objects':>9}  {'Object bytes':>16}  {'Uploads':>8}  {'Parts':>9}  "
          f"{'Part bytes':>16}  {'Total bytes':>16}")
    rows = sorted(usage.by_class.items()) + [("Total", usage.total)]
    for name, counts in rows:
        print(f"{name:<15}  {counts.objects:>9}  {counts.object_bytes:>16}  {counts.uploads:>8}  {counts.parts:>9}  "
              f"{counts.part_bytes:>16}  {counts.stored_bytes:>16}")
    total = usage.total
    print(f"{url}: {counted(total.objects, 'object')} ({human_size(total.object_bytes)}); parts of incomplete "
          f"uploads: {counted(total.uploads, 'upload')}, {counted(total.parts, 'part')} "
          f"({human_size(total.part_bytes)}); stored {size_text(total.stored_bytes)}")
