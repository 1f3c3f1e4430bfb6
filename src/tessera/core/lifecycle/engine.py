"""Carrying out lifecycle rules at an instant ``now``: abort stale uploads, expire and transition
objects — or, in a dry run, count what would be done.

Candidates come a batch at a time through indexes (uploads by last update, objects by key
within the rule's prefix), and each batch is acted on in one transaction that re-checks every
candidate under its row lock. So a run is idempotent, can stop anywhere (a crash, a restart)
and be run again, and never undoes a concurrent write: an upload completed or given a new part,
or an object overwritten, after it was selected is left alone.

A dry run counts each action on its own: an object that one rule would both move to a colder
class and expire, or move through two classes at once, is counted by each of those actions.

Every outcome names what it acted on (or would): the first ``named`` uploads or objects, in the
order the indexes give them (uploads oldest first, objects by key), each with its age and size
— so a preview can be checked item by item before a rule is saved — while its totals count all
of them (docs/lifecycle.md, Dry runs). A dry run reads only those first pages, and its totals
with aggregate queries wherever the rule's filters are all in SQL (uploads; objects unless the
rule filters by tag), so previewing a rule over 100 000 uploads is a few queries, not a walk of
every page; the two are read one after the other, so a write in between may make them differ
by that write.

Tag filters (the rule's tags, and ``Not`` exclusions with a tag) are applied to each candidate
found through the indexes.

Every run also ends the restores of cold objects whose restored copy expired (in every bucket,
lifecycle rules or not): one ``RestoreExpired`` outcome per bucket that had any, with no rule.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import AsyncIterator, Awaitable, Callable, TypeVar

from tessera.core import multipart, objects, restore
from tessera.core.lifecycle.rules import DAY_MS, TRANSITION_CLASSES, Configuration, Rule, Transition
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import lifecycle as lifecycle_rows
from tessera.core.tuning import LIFECYCLE_BATCH, LIFECYCLE_NAMED
from tessera.meta.lifecycle import ObjectCandidate, Totals, UploadCandidate

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_BATCH = LIFECYCLE_BATCH
NEVER = -1  # a cutoff no timestamp is at or before
NAMED = LIFECYCLE_NAMED  # uploads or objects an outcome names, by default


@dataclass(frozen=True)
class ActedOn:
    """One upload or object an action acted on (or would act on)."""

    key: str
    # At the run's instant, since what the rule measures from (see rules.py). None (with bytes)
    # only in runs logged before outcomes named their items, which kept just the keys.
    age_ms: int | None
    bytes: int | None
    upload_id: str | None = None  # uploads only: the ID AbortMultipartUpload takes
    parts: int | None = None  # uploads only


@dataclass
class Outcome:
    """What one action of one rule did (or would do) in one bucket: totals over everything it
    matched, and the first of those by name (``truncated`` when there were more)."""

    bucket: str
    rule_id: str
    action: str  # AbortMultipartUpload | Expiration | Transition:<class> | RestoreExpired (rule_id "")
    matched: int = 0  # uploads or objects
    parts: int = 0
    bytes: int = 0
    items: list[ActedOn] = field(default_factory=list)
    truncated: bool = False

    def add(self, found: list[ActedOn], *, named: int) -> None:
        self.matched += len(found)
        self.parts += sum(a.parts or 0 for a in found)
        self.bytes += sum(a.bytes or 0 for a in found)
        self.items.extend(found[: max(named - len(self.items), 0)])
        self.truncated = self.matched > len(self.items)

    def counted(self, named: list[ActedOn], totals: Totals) -> None:
        """Totals counted apart (by a dry run) from the items it names."""
        self.matched, self.parts, self.bytes = totals.count, totals.parts, totals.bytes
        self.items = named
        self.truncated = self.matched > len(self.items)

    def keeping(self, named: int) -> Outcome:
        """The same totals, naming only the first ``named`` items."""
        return replace(self, items=self.items[:named], truncated=self.matched > min(named, len(self.items)))


@dataclass
class RunReport:
    now_ms: int
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


def cutoff(now_ms: int, days: int | None, created_before_ms: int | None) -> int:
    """The latest timestamp an action matches: Days ago, or just before CreatedBeforeDate.

    Never earlier than NEVER, so however many Days a rule names (one stored before they were
    bounded too), the cutoff stays a number the metadata store can compare with.
    """
    if days is not None:
        return max(now_ms - days * DAY_MS, NEVER)
    assert created_before_ms is not None
    return max(created_before_ms - 1, NEVER)


async def run(storage: Storage, *, now_ms: int, bucket_name: str | None = None, dry_run: bool = False,
              batch: int = DEFAULT_BATCH, named: int = NAMED,
              before_each_rule: Callable[[], Awaitable[None]] | None = None) -> RunReport:
    """Apply every enabled rule of every configured bucket (or of ``bucket_name``). A rule that
    fails is reported in ``errors`` and the run goes on with the next. Each outcome names its
    first ``named`` uploads or objects."""
    async with storage.db.read(offloaded=True) as conn:
        configured = await lifecycle_rows.configured_buckets(conn, bucket_name)
    report = await _run(storage, configured, now_ms=now_ms, dry_run=dry_run, batch=batch, named=named,
                        before_each_rule=before_each_rule)
    if before_each_rule is not None:
        await before_each_rule()
    try:
        report.outcomes.extend(await _end_expired_restores(storage, now_ms, bucket_name, dry_run, batch, named))
    except Exception as error:
        log.exception("ending expired restores failed")
        report.errors.append({"bucket": bucket_name or "", "rule_id": "", "error": f"{type(error).__name__}: {error}"})
    return report


async def _end_expired_restores(storage: Storage, now_ms: int, bucket_name: str | None, dry_run: bool,
                                batch: int, named: int) -> list[Outcome]:
    outcomes: dict[str, Outcome] = {}
    async for ended in restore.end_expired(storage, now_ms=now_ms, bucket_name=bucket_name, dry_run=dry_run,
                                           batch=batch):
        for r in ended:
            # The age of an expired restore counts from when its restored copy expired.
            outcomes.setdefault(r.bucket, Outcome(r.bucket, "", "RestoreExpired")).add(
                [ActedOn(r.key, now_ms - r.expires_ms, r.size)], named=named)
    return list(outcomes.values())


async def preview(storage: Storage, bucket_name: str, config: Configuration, *, now_ms: int,
                  named: int = NAMED) -> RunReport:
    """What ``config`` would do to ``bucket_name`` at ``now_ms`` — before it is saved — naming
    the first ``named`` uploads or objects of each action."""
    async with storage.db.read(offloaded=True) as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
    return await _run(storage, [(bucket.bucket_id, bucket.name, config)], now_ms=now_ms, dry_run=True,
                      batch=DEFAULT_BATCH, named=named, before_each_rule=None)


async def _run(storage: Storage, configured: list[tuple[int, str, Configuration]], *, now_ms: int, dry_run: bool,
               batch: int, named: int, before_each_rule: Callable[[], Awaitable[None]] | None) -> RunReport:
    report = RunReport(now_ms, dry_run)
    for bucket_id, name, config in configured:
        for rule in config.rules:
            if not rule.enabled:
                continue
            if before_each_rule is not None:
                await before_each_rule()
            try:
                report.outcomes.extend(await _apply(_Pass(storage, bucket_id, name, now_ms, dry_run, batch, named), rule))
            except Exception as error:
                log.exception("lifecycle rule %r of bucket %s failed", rule.id, name)
                report.errors.append({"bucket": name, "rule_id": rule.id, "error": f"{type(error).__name__}: {error}"})
    return report


@dataclass(frozen=True)
class _Pass:
    """One rule's pass over one bucket."""

    storage: Storage
    bucket_id: int
    bucket: str
    now_ms: int
    dry_run: bool
    batch: int
    named: int


async def _apply(p: _Pass, rule: Rule) -> list[Outcome]:
    outcomes = []
    if rule.abort_multipart_upload is not None:
        outcomes.append(await _abort_uploads(p, rule))
    if rule.expiration is not None and _expiration_cutoff(rule, p.now_ms) is not None:
        outcomes.append(await _expire_objects(p, rule))
    # Coldest first, so an object old enough for several transitions goes straight to the last.
    for transition in sorted(rule.transitions, key=lambda t: -TRANSITION_CLASSES.index(t.storage_class)):
        outcomes.append(await _transition_objects(p, rule, transition))
    return outcomes


# --- uploads -----------------------------------------------------------------------------

async def _abort_uploads(p: _Pass, rule: Rule) -> Outcome:
    action = rule.abort_multipart_upload
    assert action is not None
    limit = cutoff(p.now_ms, action.days, action.created_before_ms)
    outcome = Outcome(p.bucket, rule.id, "AbortMultipartUpload")
    if p.dry_run:
        first = await _first(_stale_uploads(p, rule, limit), p.named)
        async with p.storage.db.read(offloaded=True) as conn:
            totals = await lifecycle_rows.stale_upload_totals(conn, p.bucket_id, prefix=rule.prefix,
                                                              excluded=_excluded(rule), updated_at_or_before_ms=limit)
        outcome.counted(_named_uploads(p, first), totals)
        return outcome
    async for batch in _stale_uploads(p, rule, limit):
        aborted = await multipart.abort_stale_uploads(p.storage, [u.upload_id for u in batch],
                                                      updated_at_or_before_ms=limit)
        outcome.add(_named_uploads(p, [u for u in batch if u.upload_id in aborted]), named=p.named)
    return outcome


def _named_uploads(p: _Pass, batch: list[UploadCandidate]) -> list[ActedOn]:
    return [ActedOn(u.key, p.now_ms - u.last_update_ms, u.size, u.upload_id, u.parts) for u in batch]


async def _stale_uploads(p: _Pass, rule: Rule, limit: int) -> AsyncIterator[list[UploadCandidate]]:
    after: tuple[int, str] | None = None
    while True:
        async with p.storage.db.read(offloaded=True) as conn:
            batch = await lifecycle_rows.stale_uploads(conn, p.bucket_id, prefix=rule.prefix, excluded=_excluded(rule),
                                                       updated_at_or_before_ms=limit, after=after, limit=p.batch)
        if batch:
            yield batch
        if len(batch) < p.batch:
            return
        after = (batch[-1].last_update_ms, batch[-1].upload_id)


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


async def _expire_objects(p: _Pass, rule: Rule) -> Outcome:
    limit = _expiration_cutoff(rule, p.now_ms)
    assert limit is not None
    outcome = Outcome(p.bucket, rule.id, "Expiration")
    if p.dry_run and not _filters_by_tag(rule):
        return await _counted_objects(p, rule, limit, None, outcome)
    async for batch in _aged_objects(p, rule, limit, None):
        if not p.dry_run:
            deleted = await objects.expire_objects(p.storage, p.bucket, [(c.key, c.last_modified_ms) for c in batch])
            batch = [c for c in batch if c.key in deleted]
        outcome.add(_named_objects(p, batch), named=p.named)
    return outcome


async def _transition_objects(p: _Pass, rule: Rule, transition: Transition) -> Outcome:
    limit = cutoff(p.now_ms, transition.days, transition.created_before_ms)
    target = transition.storage_class
    warmer = ("Standard", *TRANSITION_CLASSES[: TRANSITION_CLASSES.index(target)])
    outcome = Outcome(p.bucket, rule.id, f"Transition:{target}")
    if p.dry_run and not _filters_by_tag(rule):
        return await _counted_objects(p, rule, limit, warmer, outcome)
    async for batch in _aged_objects(p, rule, limit, warmer):
        if not p.dry_run:
            moved = await objects.transition_objects(p.storage, p.bucket, [(c.key, c.last_modified_ms) for c in batch],
                                                     storage_class=target, from_classes=warmer)
            batch = [c for c in batch if c.key in moved]
        outcome.add(_named_objects(p, batch), named=p.named)
    return outcome


async def _aged_objects(p: _Pass, rule: Rule, limit: int,
                        storage_classes: tuple[str, ...] | None) -> AsyncIterator[list[ObjectCandidate]]:
    size_filter = rule.filter
    after = ""
    while True:
        async with p.storage.db.read(offloaded=True) as conn:
            batch = await lifecycle_rows.aged_objects(
                conn, p.bucket_id, prefix=rule.prefix, excluded=_excluded(rule), modified_at_or_before_ms=limit,
                size_greater_than=size_filter.size_greater_than if size_filter else None,
                size_less_than=size_filter.size_less_than if size_filter else None,
                storage_classes=storage_classes, after_key=after, limit=p.batch,
            )
        matching = [c for c in batch if _tags_match(rule, c.key, c.tags)]
        if matching:
            yield matching
        if len(batch) < p.batch:
            return
        after = batch[-1].key


async def _counted_objects(p: _Pass, rule: Rule, limit: int, storage_classes: tuple[str, ...] | None,
                           outcome: Outcome) -> Outcome:
    """A dry run's outcome for objects: the first by name, the totals by one aggregate query."""
    first = await _first(_aged_objects(p, rule, limit, storage_classes), p.named)
    size_filter = rule.filter
    async with p.storage.db.read(offloaded=True) as conn:
        totals = await lifecycle_rows.aged_object_totals(
            conn, p.bucket_id, prefix=rule.prefix, excluded=_excluded(rule), modified_at_or_before_ms=limit,
            size_greater_than=size_filter.size_greater_than if size_filter else None,
            size_less_than=size_filter.size_less_than if size_filter else None, storage_classes=storage_classes)
    outcome.counted(_named_objects(p, first), totals)
    return outcome


async def _first(batches: AsyncIterator[list[T]], count: int) -> list[T]:
    """The first ``count`` items the batches give, reading no further."""
    found: list[T] = []
    async with contextlib.aclosing(batches) as pages:
        if count <= 0:
            return found
        async for batch in pages:
            found += batch[: count - len(found)]
            if len(found) >= count:
                break
    return found


def _filters_by_tag(rule: Rule) -> bool:
    """Whether the rule selects objects by tag (in Python, after the query)."""
    return bool(rule.tags) or any(x.tag is not None for x in (rule.filter.exclusions if rule.filter else ()))


def _named_objects(p: _Pass, batch: list[ObjectCandidate]) -> list[ActedOn]:
    return [ActedOn(c.key, p.now_ms - c.last_modified_ms, c.size) for c in batch]


def _excluded(rule: Rule) -> list[str]:
    """Not prefixes that exclude every key under them (the query leaves those out)."""
    return [x.prefix for x in rule.filter.exclusions if x.tag is None] if rule.filter else []


def _tags_match(rule: Rule, key: str, tags: dict[str, str]) -> bool:
    """The object carries every tag of the rule, and no ``Not`` with a tag excludes it (one
    excludes objects under its prefix that carry its tag)."""
    if any(tags.get(t.key) != t.value for t in rule.tags):
        return False
    return not any(x.tag is not None and key.startswith(x.prefix) and tags.get(x.tag.key) == x.tag.value
                   for x in (rule.filter.exclusions if rule.filter else ()))
