"""The Lifecycle page and its JSON: a bucket's rules (list, add, edit, enable or disable,
delete), the dry-run preview of rules before they are saved, and the run log.

Rules travel as the console's rule JSON (``console/lifecycle_json.py``) and are saved through
``core.lifecycle.config.put_lifecycle`` — the same path as PutBucketLifecycle; previews are the
lifecycle engine's own dry runs (docs/console.md, Lifecycle). Only the bucket's owner (and root
keys) may see or change its rules, as in OSS.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from aiohttp import web

from tessera.console.lifecycle_json import (
    RuleJsonError,
    configuration_from_json,
    configuration_to_json,
    rule_from_json,
    rule_to_json,
    validated,
)
from tessera.console.lifecycle_summary import conditions, describe, part_cleanup_first
from tessera.console.request import ConsoleRequest
from tessera.console.responses import ConsoleError, json_response
from tessera.console.routing import Route
from tessera.core import buckets
from tessera.core.acl import Access, allowed
from tessera.core.clock import parse_instant
from tessera.core.errors import NoSuchBucket, NoSuchLifecycle
from tessera.core.lifecycle import config, engine, runs
from tessera.core.lifecycle.rules import Configuration, Rule

RUNS_SHOWN = 20  # runs on the page and, by default, in the run log's JSON
MAX_RUNS = 200
MAX_NAMED = 2000  # uploads or objects a console preview names per action ("the first hundreds")


def lifecycle_url(bucket: str) -> str:
    return f"/-/console/buckets/{quote(bucket, safe='')}/lifecycle"


def cleanup_url(bucket: str, days: int, prefix: str = "") -> str:
    """The Lifecycle page with a rule aborting the uploads (under ``prefix``) older than ``days``
    filled in and previewed, one click from saved: Part Management's "clean up parts older than
    N days"."""
    url = f"{lifecycle_url(bucket)}?cleanup_days={days}"
    return url + (f"&cleanup_prefix={quote(prefix, safe='')}" if prefix else "")


# --- the page --------------------------------------------------------------------------------

async def lifecycle_page(c: ConsoleRequest) -> web.Response:
    bucket = c.params["bucket"]
    await c.require_bucket(bucket, Access.OWNER)
    rules = part_cleanup_first(await _saved_rules(c, bucket))
    shown = [_only_bucket(r, bucket) for r in await runs.recent_runs(c.storage, RUNS_SHOWN, bucket_name=bucket)]
    now_ms = c.storage.clock()
    return c.render("lifecycle.html", nav="lifecycle", rules=rules, describe=describe, conditions=conditions,
                    runs=shown, last=next((r for r in shown if not r.dry_run), None),
                    next_run_ms=await _next_run_ms(c, now_ms),
                    schedule=_schedule_text(c), cleanup_days=_cleanup_days(c),
                    cleanup_prefix=c.query.get("cleanup_prefix", ""))


def _cleanup_days(c: ConsoleRequest) -> str:
    """``?cleanup_days=N[&cleanup_prefix=P]`` (Part Management's "clean up parts older than N
    days") opens the form with that rule filled in, and previews it."""
    text = c.query.get("cleanup_days", "")
    return text if text.isdigit() and 0 < int(text) < 100_000 else ""


# --- rules as JSON ---------------------------------------------------------------------------

async def get_rules(c: ConsoleRequest) -> web.Response:
    bucket = c.params["bucket"]
    await c.require_bucket(bucket, Access.OWNER)
    return json_response({"bucket": bucket, "rules": [rule_to_json(r) for r in await _saved_rules(c, bucket)]})


async def put_rules(c: ConsoleRequest) -> web.Response:
    """The whole rule list; an empty one deletes the configuration."""
    bucket = c.params["bucket"]
    await c.require_bucket(bucket, Access.OWNER)
    body = await c.json_body()
    if body.get("rules") == []:
        await config.delete_lifecycle(c.storage, bucket)
        return json_response({"bucket": bucket, "rules": []})
    overlap = _overlap(body)
    rules = _decoded(lambda: configuration_from_json(body.get("rules"), allow_same_action_overlap=overlap))
    saved = await config.put_lifecycle(c.storage, bucket, rules.rules, allow_same_action_overlap=overlap)
    return json_response({"bucket": bucket, "rules": configuration_to_json(saved)})


# Each change to one rule reads the saved rules and saves them all again, in one transaction
# (config.change_lifecycle): two edits at the same moment, through any gateways, both hold.

async def add_rule(c: ConsoleRequest) -> web.Response:
    bucket = c.params["bucket"]
    await c.require_bucket(bucket, Access.OWNER)
    body = await c.json_body()
    overlap = _overlap(body)

    def add(saved: list[Rule]) -> tuple[Rule, ...]:
        return _decoded(lambda: validated([*saved, rule_from_json(body.get("rule"))],
                                          [*_wheres(saved), "rule"], allow_same_action_overlap=overlap)).rules

    stored = await config.change_lifecycle(c.storage, bucket, add, allow_same_action_overlap=overlap)
    return json_response({"bucket": bucket, "rule": rule_to_json(stored.rules[-1])}, status=201)


async def edit_rule(c: ConsoleRequest) -> web.Response:
    """Replaces the rule with that ID (the new one may carry another ID: a rename)."""
    bucket, rule_id = c.params["bucket"], c.params["rule_id"]
    await c.require_bucket(bucket, Access.OWNER)
    body = await c.json_body()
    overlap = _overlap(body)
    edited: list[int] = []

    def edit(saved: list[Rule]) -> tuple[Rule, ...]:
        index = _index(saved, rule_id, bucket)
        edited[:] = [index]

        def decode() -> Configuration:
            new = rule_from_json(body.get("rule"))
            new = new if new.id else replace(new, id=rule_id)
            rules = [*saved[:index], new, *saved[index + 1:]]
            wheres = [*_wheres(saved[:index]), "rule", *_wheres(saved[index + 1:], start=index + 1)]
            return validated(rules, wheres, allow_same_action_overlap=overlap)

        return _decoded(decode).rules

    stored = await config.change_lifecycle(c.storage, bucket, edit, allow_same_action_overlap=overlap)
    return json_response({"bucket": bucket, "rule": rule_to_json(stored.rules[edited[0]])})


async def enable_rule(c: ConsoleRequest) -> web.Response:
    return await _set_enabled(c, True)


async def disable_rule(c: ConsoleRequest) -> web.Response:
    return await _set_enabled(c, False)


async def _set_enabled(c: ConsoleRequest, enabled: bool) -> web.Response:
    bucket, rule_id = c.params["bucket"], c.params["rule_id"]
    await c.require_bucket(bucket, Access.OWNER)
    changed: list[int] = []

    def toggle(saved: list[Rule]) -> list[Rule]:
        index = _index(saved, rule_id, bucket)
        changed[:] = [index]
        return [*saved[:index], replace(saved[index], enabled=enabled), *saved[index + 1:]]

    # The saved rules passed validation once; they are saved again allowing what they hold
    # (an overlap accepted with x-oss-allow-same-action-overlap stays accepted).
    stored = await config.change_lifecycle(c.storage, bucket, toggle, allow_same_action_overlap=True)
    return json_response({"bucket": bucket, "rule": rule_to_json(stored.rules[changed[0]])})


async def delete_rule(c: ConsoleRequest) -> web.Response:
    """The last rule takes the configuration with it (OSS keeps no empty one)."""
    bucket, rule_id = c.params["bucket"], c.params["rule_id"]
    await c.require_bucket(bucket, Access.OWNER)

    def remove(saved: list[Rule]) -> list[Rule]:
        index = _index(saved, rule_id, bucket)
        return saved[:index] + saved[index + 1:]

    await config.change_lifecycle(c.storage, bucket, remove, allow_same_action_overlap=True)
    return json_response({"bucket": bucket, "deleted": rule_id})


async def _saved_rules(c: ConsoleRequest, bucket: str) -> list[Rule]:
    try:
        return list((await config.get_lifecycle(c.storage, bucket)).rules)
    except NoSuchLifecycle:
        return []


def _index(rules: list[Rule], rule_id: str, bucket: str) -> int:
    for i, rule in enumerate(rules):
        if rule.id == rule_id:
            return i
    raise ConsoleError(404, "NoSuchRule", f"Bucket {bucket} has no lifecycle rule {rule_id!r}.", rule_id=rule_id)


def _wheres(rules: list[Rule], start: int = 0) -> list[str]:
    return [f"rules[{start + i}]" for i in range(len(rules))]


def _overlap(body: dict[str, Any]) -> bool:
    value = body.get("allow_same_action_overlap", False)
    if not isinstance(value, bool):
        raise ConsoleError(400, "InvalidRule", "allow_same_action_overlap must be true or false.",
                           field="allow_same_action_overlap")
    return value


def _decoded(decode: Any) -> Configuration:
    try:
        return decode()
    except RuleJsonError as refused:
        raise ConsoleError(400, "InvalidRule", refused.message, field=refused.field) from None


# --- the preview -----------------------------------------------------------------------------

async def preview(c: ConsoleRequest) -> web.Response:
    """What ``rules`` (not yet saved) would do at ``now`` (the server's clock unless given): per
    rule and action the totals and the first ``limit`` uploads or objects by name. A disabled
    rule is previewed as if enabled, and said to be disabled: saved so, it does nothing."""
    bucket = c.params["bucket"]
    await c.require_bucket(bucket, Access.OWNER)
    body = await c.json_body()
    rules = _decoded(lambda: configuration_from_json(body.get("rules"), allow_same_action_overlap=True))
    now_ms = _instant(body.get("now"), "now", default=c.storage.clock())
    named = _limit(body.get("limit"))
    as_enabled = Configuration(tuple(replace(r, enabled=True) for r in rules.rules))
    report = await engine.preview(c.storage, bucket, as_enabled, now_ms=now_ms, named=named)
    return json_response({
        "bucket": bucket, "now_ms": now_ms, "limit": named,
        "rules": [{"id": r.id, "enabled": r.enabled, "outcomes": [o for o in report.outcomes if o.rule_id == r.id]}
                  for r in rules.rules],
        "errors": report.errors,
    })


def _instant(value: object, name: str, *, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            pass
    raise ConsoleError(400, "InvalidArgument", f"{name} must be an ISO 8601 instant such as 2026-12-02T04:00:00Z.",
                       field=name)


def _limit(value: object) -> int:
    if value is None:
        return engine.NAMED
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_NAMED:
        raise ConsoleError(400, "InvalidArgument", f"limit must be a whole number from 0 to {MAX_NAMED}.",
                           field="limit")
    return value


# --- the run log -----------------------------------------------------------------------------

async def run_log(c: ConsoleRequest) -> web.Response:
    """The latest runs (``?bucket=B``: those that could act on B, showing only what they did
    there), the last real run and the next scheduled one. Without a bucket a root key sees
    every bucket's outcomes, and any other key those of the buckets it owns."""
    bucket = c.query.get("bucket") or None
    limit = c.query.get("limit", str(RUNS_SHOWN))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_RUNS:
        raise ConsoleError(400, "InvalidArgument", f"limit must be a whole number from 1 to {MAX_RUNS}.",
                           field="limit")
    if bucket is not None:
        await c.require_bucket(bucket, Access.OWNER)
    logged = await runs.recent_runs(c.storage, int(limit), bucket_name=bucket)
    if bucket is not None:
        shown = [_only_bucket(r, bucket) for r in logged]
    else:
        visible = await _owned(c, {o.bucket for r in logged for o in r.outcomes}
                               | {e.get("bucket", "") for r in logged for e in r.errors})
        shown = [_only_buckets(r, visible) for r in logged]
    last = next((r for r in shown if not r.dry_run), None)
    return json_response({"runs": shown, "last_run": last, "next_run_ms": await _next_run_ms(c, c.storage.clock()),
                          "schedule": _schedule_text(c)})


def _only_bucket(run: runs.LoggedRun, bucket: str) -> runs.LoggedRun:
    return _only_buckets(run, {bucket})


def _only_buckets(run: runs.LoggedRun, visible: set[str] | None) -> runs.LoggedRun:
    """The run, with only the outcomes and errors of ``visible`` buckets (None: all)."""
    if visible is None:
        return run
    return replace(run, outcomes=[o for o in run.outcomes if o.bucket in visible],
                   errors=[e for e in run.errors if e.get("bucket") in visible])


async def _owned(c: ConsoleRequest, names: set[str]) -> set[str] | None:
    if c.requester.is_root:
        return None
    owned = set()
    for name in names:
        try:
            bucket = await buckets.get_bucket(c.storage, name)
        except NoSuchBucket:
            continue
        if allowed(c.requester, bucket.owner, Access.OWNER, [bucket.acl]):
            owned.add(name)
    return owned


async def _next_run_ms(c: ConsoleRequest, now_ms: int) -> int | None:
    schedule = c.options.lifecycle_schedule
    return None if schedule is None else await runs.next_run_ms(c.storage, schedule, now_ms)


def _schedule_text(c: ConsoleRequest) -> str | None:
    schedule = c.options.lifecycle_schedule
    if schedule is None:
        return None
    if schedule.every_seconds is not None:
        return f"every {schedule.every_seconds:g} s"
    hour, minute = schedule.daily_at
    return f"daily at {hour:02d}:{minute:02d} UTC"


ROUTES = [
    Route("GET", "/buckets/{bucket}/lifecycle", lifecycle_page, page=True),
    Route("GET", "/api/buckets/{bucket}/lifecycle", get_rules),
    Route("PUT", "/api/buckets/{bucket}/lifecycle", put_rules),
    Route("POST", "/api/buckets/{bucket}/lifecycle/rules", add_rule),
    Route("PUT", "/api/buckets/{bucket}/lifecycle/rules/{rule_id}", edit_rule),
    Route("DELETE", "/api/buckets/{bucket}/lifecycle/rules/{rule_id}", delete_rule),
    Route("POST", "/api/buckets/{bucket}/lifecycle/rules/{rule_id}/enable", enable_rule),
    Route("POST", "/api/buckets/{bucket}/lifecycle/rules/{rule_id}/disable", disable_rule),
    Route("POST", "/api/buckets/{bucket}/lifecycle/preview", preview),
    Route("GET", "/api/lifecycle/runs", run_log),
]
