"""``tessera rm`` and ``abort-multipart-upload``: remove objects, incomplete multipart uploads (and
the parts they hold) and buckets, saying what was freed."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

import alibabacloud_oss_v2 as oss

from tessera.cli.client.common import UsageError, add_connection_options, client_command, human_size, print_json
from tessera.cli.client.formats import counted, object_json, size_text, upload_json
from tessera.cli.client.listing import add_jobs_option
from tessera.client import removal
from tessera.client.patterns import NameFilter, PatternError, Rule
from tessera.client.urls import OssUrl, parse_url

RM_DESCRIPTION = """\
Remove one object, everything under a prefix (-r), incomplete multipart uploads and the parts they
hold (-m), both (-a), and the bucket itself (-b).

  rm oss://B/KEY             the object KEY (no question asked)
  rm oss://B/KEY -m          every incomplete upload of exactly KEY
  rm oss://B/KEY -a          the object KEY and every incomplete upload of it
  rm oss://B/PREFIX -r       every object whose key starts with PREFIX
  rm oss://B/PREFIX -m -r    every incomplete upload whose key starts with PREFIX
  rm oss://B -a -r -b        everything in bucket B, then B itself
  rm oss://B -b              the empty bucket B

Everything is listed first; then, unless -f is given, the command says what it is about to remove
and asks for y/N on stdin (removing one object asks nothing). An answer other than y or yes
removes nothing (exit 0); no answer at all (stdin at its end, e.g. </dev/null) removes nothing and
exits 2 — use -f in scripts. Bytes freed are the listed sizes of the objects and, for uploads, of
their parts (ListParts); what appears after the listing is not removed.
"""


FILTERS_DESCRIPTION = """\
Shell-style patterns (* ? [seq] [!seq]) matched against the last segment of each key (the name
after its last '/', so a pattern cannot contain '/'), for objects and uploads alike. Repeatable;
they apply in order and the last one that matches a name decides. A name that no pattern
matches is kept, unless the first of these options is --include.
"""


class AppendRule(argparse.Action):
    """``--include P`` and ``--exclude P`` append to one list of rules, in command-line order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        rules = list(getattr(namespace, self.dest) or [])
        rules.append(Rule(include=option_string == "--include", pattern=str(values)))
        setattr(namespace, self.dest, rules)


def add_parsers(commands: Any) -> None:
    rm = commands.add_parser("rm", help="remove objects (-r: under a prefix), incomplete multipart uploads (-m), "
                                        "both (-a), and buckets (-b)",
                             description=RM_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    rm.add_argument("url", metavar="oss://BUCKET[/KEY_OR_PREFIX]")
    rm.add_argument("-r", "--recursive", action="store_true", help="everything whose key starts with the prefix")
    rm.add_argument("-m", "--multipart", action="store_true", help="incomplete multipart uploads instead of objects")
    rm.add_argument("-a", "--all-type", action="store_true", help="objects and incomplete multipart uploads")
    rm.add_argument("-b", "--bucket", action="store_true",
                    help="remove the bucket too (alone: an empty bucket; with -a -r: after emptying it)")
    rm.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    rm.add_argument("--dry-run", action="store_true", help="list what would be removed, and remove nothing")
    filters = rm.add_argument_group("filters (with -r)", FILTERS_DESCRIPTION)
    filters.add_argument("--include", action=AppendRule, dest="rules", metavar="PATTERN",
                         help="remove matching names")
    filters.add_argument("--exclude", action=AppendRule, dest="rules", metavar="PATTERN", help="keep matching names")
    add_jobs_option(rm, "ListParts, AbortMultipartUpload and DeleteMultipleObjects")
    rm.add_argument("-j", "--json", action="store_true", help="print the summary as JSON")
    add_connection_options(rm)
    rm.set_defaults(run=client_command(_rm), rules=[])

    abort = commands.add_parser("abort-multipart-upload",
                                help="abort one incomplete multipart upload, freeing its parts")
    abort.add_argument("url", metavar="oss://BUCKET/KEY")
    abort.add_argument("upload_id", metavar="UPLOAD_ID")
    abort.add_argument("-j", "--json", action="store_true", help="print JSON")
    add_connection_options(abort)
    abort.set_defaults(run=client_command(_abort))


def target_of(args: argparse.Namespace, url: OssUrl) -> removal.Target:
    """What the options ask for, refusing the combinations that make no sense (as ossutil does)."""
    try:
        name_filter = NameFilter(tuple(args.rules))
    except PatternError as error:
        raise UsageError(str(error)) from None
    if name_filter and not args.recursive:
        raise UsageError("--include and --exclude select among many keys: add -r")
    if args.bucket and url.key:
        raise UsageError(f"-b removes a whole bucket: give oss://{url.bucket}, without a key or prefix")
    if args.bucket and not args.recursive and (args.multipart or args.all_type):
        raise UsageError("-b with -m or -a needs -r: rm oss://BUCKET -a -r -b empties the bucket, then removes it")
    if not url.key and not args.recursive and not args.bucket:
        raise UsageError(f"{url} is a bucket: add -r to remove what it holds, or -b to remove the (empty) bucket")
    only_bucket = args.bucket and not args.recursive
    return removal.Target(
        bucket=url.bucket, key=url.key,
        objects=not only_bucket and (args.all_type or not args.multipart),
        uploads=not only_bucket and (args.all_type or args.multipart),
        recursive=args.recursive, bucket_too=args.bucket, name_filter=name_filter)


def _rm(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url)
    target = target_of(args, url)
    plan = removal.plan(client, target, jobs=args.jobs)
    if args.dry_run:
        _show_plan(args, url, plan, target.recursive)
        return 0
    if plan.is_empty:
        _report(args, url, removal.RemovalResult(), confirmed=True, message=f"nothing to remove at {url}")
        return 0
    if not args.force and (target.recursive or target.uploads or target.bucket_too):
        question = _describe(plan, url, target.recursive)
        answer = _ask(f"{question[:1].upper()}{question[1:]}? [y/N] ")
        if answer is None:
            raise UsageError("no answer on stdin: nothing removed (-f removes without asking)")
        if answer.strip().lower() not in ("y", "yes"):
            _report(args, url, removal.RemovalResult(), confirmed=False, message="nothing removed")
            return 0
    try:
        done = removal.execute(client, plan, jobs=args.jobs)
    except removal.RemovalFailed as failure:
        if done_text := _done_text(failure.done, url):
            print(f"tessera: stopped after {done_text}", file=sys.stderr)
        raise failure.cause from None
    _report(args, url, done, confirmed=True)
    return 0


def _ask(prompt: str) -> str | None:
    """The answer typed or piped on stdin; None when stdin has nothing more to say."""
    print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    if not line or not sys.stdin.isatty():
        print(file=sys.stderr)  # end the prompt's line: nobody typed a newline
    return line or None


def _describe(plan: removal.RemovalPlan, url: OssUrl, recursive: bool) -> str:
    what = []
    if plan.objects:
        what.append(f"{counted(len(plan.objects), 'object')} ({human_size(plan.object_bytes)})")
    if plan.uploads:
        what.append(f"{counted(len(plan.uploads), 'incomplete upload')} with {counted(plan.part_count, 'part')} "
                    f"({human_size(plan.part_bytes)})")
    text = f"remove {' and '.join(what)} {'under' if recursive else 'at'} {url}" if what else ""
    if plan.remove_bucket:
        text += (", then " if text else "remove ") + f"the bucket {plan.bucket}"
    return text


def _done_text(done: removal.RemovalResult, url: OssUrl) -> str:
    said = []
    if done.objects:
        said.append(f"removing {counted(done.objects, 'object')} ({human_size(done.object_bytes)})")
    if done.uploads:
        said.append(f"aborting {counted(done.uploads, 'incomplete upload')} "
                    f"({counted(done.parts, 'part')}, {human_size(done.part_bytes)})")
    if done.bucket_removed:
        said.append(f"removing the bucket {url.bucket}")
    return ", ".join(said)


def _report(args: argparse.Namespace, url: OssUrl, done: removal.RemovalResult, *, confirmed: bool,
            message: str = "") -> None:
    if args.json:
        print_json({"confirmed": confirmed, "dry_run": False,
                    "objects": {"count": done.objects, "bytes": done.object_bytes},
                    "uploads": {"count": done.uploads, "parts": done.parts, "bytes": done.part_bytes,
                                "already_gone": done.uploads_gone},
                    "bucket_removed": done.bucket_removed, "freed_bytes": done.freed_bytes})
        return
    if message:
        print(message, file=sys.stdout if confirmed else sys.stderr)
        return
    if done.objects:
        print(f"removed {counted(done.objects, 'object')}, {size_text(done.object_bytes)}")
    if done.uploads:
        print(f"aborted {counted(done.uploads, 'incomplete upload')}, {counted(done.parts, 'part')}, "
              f"{size_text(done.part_bytes)}")
    if done.uploads_gone:
        print(f"{counted(done.uploads_gone, 'upload')} had already been completed or aborted")
    if done.bucket_removed:
        print(f"removed bucket {OssUrl(url.bucket)}")
    print(f"freed {size_text(done.freed_bytes)}")


def _show_plan(args: argparse.Namespace, url: OssUrl, plan: removal.RemovalPlan, recursive: bool) -> None:
    if args.json:
        print_json({"dry_run": True, "objects": [object_json(plan.bucket, entry) for entry in plan.objects],
                    "uploads": [upload_json(plan.bucket, upload) for upload in plan.uploads],
                    "bucket": plan.bucket if plan.remove_bucket else None,
                    "summary": {"objects": len(plan.objects), "object_bytes": plan.object_bytes,
                                "uploads": len(plan.uploads), "parts": plan.part_count,
                                "part_bytes": plan.part_bytes}})
        return
    for entry in plan.objects:
        print(f"would remove {OssUrl(plan.bucket, entry.key)} ({entry.size} bytes)")
    for upload in plan.uploads:
        parts = upload.parts
        held = f"{counted(parts.count, 'part')}, {parts.size} bytes" if parts else "parts not counted"
        print(f"would abort {upload.upload_id} of {OssUrl(plan.bucket, upload.key)} ({held})")
    if plan.remove_bucket:
        print(f"would remove the bucket {OssUrl(plan.bucket)}")
    print(f"dry run: would {_describe(plan, url, recursive)}" if not plan.is_empty
          else f"dry run: nothing to remove at {url}")


def _abort(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, need_key=True)
    totals = removal.abort_upload(client, url.bucket, url.key, args.upload_id)
    if args.json:
        print_json({"url": str(url), "upload_id": args.upload_id, "aborted": True,
                    "parts": totals.count if totals else None, "bytes": totals.size if totals else None})
    elif totals is None:
        print(f"aborted upload {args.upload_id} of {url} (its parts could not be listed first)")
    else:
        print(f"aborted upload {args.upload_id} of {url}: freed {counted(totals.count, 'part')}, "
              f"{size_text(totals.size)}")
    return 0
