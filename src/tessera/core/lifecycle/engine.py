"""Carrying out lifecycle rules at an instant ``now``: abort stale uploads, expire and transition
objects — or, in a dry run, count what would be done.

Candidates come a batch at a time through indexes (uploads by last update, objects by key
within the rule's prefix). Each action is its own small transaction that re-checks the
candidate, so a run is idempotent, can stop anywhere (a crash, a restart) and be run again,
and never undoes a concurrent write: an upload completed or given a new part, or an object
overwritten, after it was selected is left alone.

Rules that filter by object tags match no object yet: Tessera does not store object tags.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable

from tessera.core import multipart, objects
from tessera.core.lifecycle.rules import DAY_MS, TRANSITION_CLASSES, Rule, Transition
from tessera.core.storage import Storage
from tessera.meta import lifecycle as lifecycle_rows
from tessera.meta.lifecycle import ObjectCandidate, UploadCandidate

log = logging.getLogger(__name__)

BATCH = 500
NEVER = -1  # a cutoff no timestamp is at or before


@dataclass
class Outcome:
    """What one action of one rule did (or would do) in one bucket."""

    bucket: str
    rule_id: str
    action: str  # AbortMultipartUpload | Expiration | Transition:<class>
    matched: int = 0  # uploads or objects
    parts: int = 0
    bytes: int = 0


@dataclass
class RunReport:
    now_ms: int
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


def cutoff(now_ms: int, days: int | None, created_before_ms: int | None) -> int:
    """The latest timestamp an action matches: Days ago, or just before CreatedBeforeDate."""
    if days is not None:
        return now_ms - days * DAY_MS
    assert created_before_ms is not None
    return created_before_ms - 1


async def run(storage: Storage, *, now_ms: int, bucket_name: str | None = None, dry_run: bool = False,
              before_each_rule: Callable[[], Awaitable[None]] | None = None) -> RunReport:
    """Apply every enabled rule of every configured bucket (or of ``bucket_name``). A rule that
    fails is reported in ``errors`` and the run goes on with the next."""
    report = RunReport(now_ms, dry_run)
    async with storage.db.read() as conn:
        configured = await lifecycle_rows.configured_buckets(conn, bucket_name)
    for bucket_id, name, config in configured:
        for rule in config.rules:
            if not rule.enabled:
                continue
            if before_each_rule is not None:
                await before_each_rule()
            try:
                report.outcomes.extend(await _apply(storage, bucket_id, name, rule, now_ms, dry_run))
            except Exception as error:
                log.exception("lifecycle rule %r of bucket %s failed", rule.id, name)
                report.errors.append({"bucket": name, "rule_id": rule.id, "error": f"{type(error).__name__}: {error}"})
    return report


async def _apply(storage: Storage, bucket_id: int, bucket: str, rule: Rule, now_ms: int,
                 dry_run: bool) -> list[Outcome]:
    outcomes = []
    if rule.abort_multipart_upload is not None:
        outcomes.append(await _abort_uploads(storage, bucket_id, bucket, rule, now_ms, dry_run))
    if rule.expiration is not None and _expiration_cutoff(rule, now_ms) is not None:
        outcomes.append(await _expire_objects(storage, bucket_id, bucket, rule, now_ms, dry_run))
    # Coldest first, so an object old enough for several transitions goes straight to the last.
    for transition in sorted(rule.transitions, key=lambda t: -TRANSITION_CLASSES.index(t.storage_class)):
        outcomes.append(await _transition_objects(storage, bucket_id, bucket, rule, transition, now_ms, dry_run))
    return outcomes


# --- uploads -----------------------------------------------------------------------------

async def _abort_uploads(storage: Storage, bucket_id: int, bucket: str, rule: Rule, now_ms: int,
                         dry_run: bool) -> Outcome:
    action = rule.abort_multipart_upload
    assert action is not None
    limit = cutoff(now_ms, action.days, action.created_before_ms)
    outcome = Outcome(bucket, rule.id, "AbortMultipartUpload")
    async for upload in _stale_uploads(storage, bucket_id, rule, limit):
        if dry_run or await multipart.abort_stale_upload(storage, upload.upload_id, updated_at_or_before_ms=limit):
            outcome.matched += 1
            outcome.parts += upload.parts
            outcome.bytes += upload.size
    return outcome


async def _stale_uploads(storage: Storage, bucket_id: int, rule: Rule, limit: int) -> AsyncIterator[UploadCandidate]:
    after = ""
    while True:
        async with storage.db.read() as conn:
            batch = await lifecycle_rows.stale_uploads(conn, bucket_id, prefix=rule.prefix, excluded=_excluded(rule),
                                                       updated_at_or_before_ms=limit, after_upload_id=after,
                                                       limit=BATCH)
        for upload in batch:
            yield upload
        if len(batch) < BATCH:
            return
        after = batch[-1].upload_id


# --- objects -----------------------------------------------------------------------------

def _expiration_cutoff(rule: Rule, now_ms: int) -> int | None:
    """None when the expiration cannot act (ExpiredObjectDeleteMarker: no versions, no markers)."""
    e = rule.expiration
    assert e is not None
    if e.date_ms is not None:
        return now_ms if now_ms >= e.date_ms else NEVER
    if e.days is None and e.created_before_ms is None:
        return None
    return cutoff(now_ms, e.days, e.created_before_ms)


async def _expire_objects(storage: Storage, bucket_id: int, bucket: str, rule: Rule, now_ms: int,
                          dry_run: bool) -> Outcome:
    limit = _expiration_cutoff(rule, now_ms)
    assert limit is not None
    outcome = Outcome(bucket, rule.id, "Expiration")
    async for candidate in _aged_objects(storage, bucket_id, rule, limit, None):
        if dry_run or await objects.expire_object(storage, bucket, candidate.key,
                                                  last_modified_ms=candidate.last_modified_ms):
            outcome.matched += 1
            outcome.bytes += candidate.size
    return outcome


async def _transition_objects(storage: Storage, bucket_id: int, bucket: str, rule: Rule, transition: Transition,
                              now_ms: int, dry_run: bool) -> Outcome:
    limit = cutoff(now_ms, transition.days, transition.created_before_ms)
    target = transition.storage_class
    warmer = ("Standard", *TRANSITION_CLASSES[: TRANSITION_CLASSES.index(target)])
    outcome = Outcome(bucket, rule.id, f"Transition:{target}")
    async for candidate in _aged_objects(storage, bucket_id, rule, limit, warmer):
        if dry_run or await objects.transition_object(storage, bucket, candidate.key,
                                                      last_modified_ms=candidate.last_modified_ms,
                                                      storage_class=target, from_classes=warmer):
            outcome.matched += 1
            outcome.bytes += candidate.size
    return outcome


async def _aged_objects(storage: Storage, bucket_id: int, rule: Rule, limit: int,
                        storage_classes: tuple[str, ...] | None) -> AsyncIterator[ObjectCandidate]:
    if rule.tags:
        return  # no object carries tags, so none matches a tag filter
    size_filter = rule.filter
    after = ""
    while True:
        async with storage.db.read() as conn:
            batch = await lifecycle_rows.aged_objects(
                conn, bucket_id, prefix=rule.prefix, excluded=_excluded(rule), modified_at_or_before_ms=limit,
                size_greater_than=size_filter.size_greater_than if size_filter else None,
                size_less_than=size_filter.size_less_than if size_filter else None,
                storage_classes=storage_classes, after_key=after, limit=BATCH,
            )
        for candidate in batch:
            yield candidate
        if len(batch) < BATCH:
            return
        after = batch[-1].key


def _excluded(rule: Rule) -> list[str]:
    """Not prefixes that exclude every key under them (one with a tag excludes only tagged
    objects, and no object has tags)."""
    return [x.prefix for x in rule.filter.exclusions if x.tag is None] if rule.filter else []
