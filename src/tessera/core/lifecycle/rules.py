"""The lifecycle rule model and its validation, as OSS defines them.

A rule selects objects and multipart uploads by key prefix (minus ``Not`` prefixes), object
tags and object size, and names actions: Expiration, AbortMultipartUpload, Transition (and the
noncurrent-version actions, which have nothing to act on while Tessera keeps no old versions).
Each action fires by age (``Days``) or by date (``CreatedBeforeDate``) — never both.

What ``Days`` measures, per action (evaluated at instant *now*; a day is 86 400 s):

* Expiration / Transition of an object: *now − last-modified ≥ Days*. An object written on
  2026-01-01T10:00Z with Days=30 matches from 2026-01-31T10:00Z on.
* AbortMultipartUpload: *now − last-update ≥ Days*, where an upload's last update is when its
  most recent part was uploaded, or when it was initiated if it has no part yet. An upload
  initiated on 2026-01-01 whose last part arrived on 2026-01-20 is aborted by a Days=10 rule
  from 2026-01-30 on — not from 2026-01-11.

``CreatedBeforeDate`` (always midnight UTC) matches objects last modified, and uploads last
updated, strictly before that instant. The deprecated ``Expiration/Date`` expires every matching
object once *now* reaches it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from tessera.core.errors import InvalidArgument

DAY_MS = 86_400_000
MAX_RULES = 1000
MAX_ID_LENGTH = 255
# OSS documents Days only as a positive integer; its official Go SDK holds it in 32 bits, and so
# does Tessera: 2**31 - 1 days (5.8 million years) is as long as a rule can wait.
MAX_DAYS = 2**31 - 1
MAX_SIZE_FILTER = 5 * 1024**4  # ObjectSizeGreaterThan / ObjectSizeLessThan: 0 to 5 TB, as OSS
TRANSITION_CLASSES = ("IA", "Archive", "ColdArchive", "DeepColdArchive")  # warmest first


@dataclass(frozen=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True)
class Exclusion:
    """A ``Not`` filter: keys under ``prefix`` (and carrying ``tag``, when given) are left alone."""

    prefix: str
    tag: Tag | None = None


@dataclass(frozen=True)
class Filter:
    size_greater_than: int | None = None
    size_less_than: int | None = None
    exclusions: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class Expiration:
    days: int | None = None
    created_before_ms: int | None = None
    date_ms: int | None = None  # the deprecated <Date>
    expired_object_delete_marker: bool | None = None


@dataclass(frozen=True)
class AbortMultipartUpload:
    days: int | None = None
    created_before_ms: int | None = None


@dataclass(frozen=True)
class Transition:
    storage_class: str
    days: int | None = None
    created_before_ms: int | None = None
    is_access_time: bool | None = None
    return_to_std_when_visit: bool | None = None
    allow_small_file: bool | None = None


@dataclass(frozen=True)
class NoncurrentExpiration:
    days: int


@dataclass(frozen=True)
class NoncurrentTransition:
    days: int
    storage_class: str
    is_access_time: bool | None = None
    return_to_std_when_visit: bool | None = None
    allow_small_file: bool | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    prefix: str = ""
    enabled: bool = True
    expiration: Expiration | None = None
    abort_multipart_upload: AbortMultipartUpload | None = None
    transitions: tuple[Transition, ...] = ()
    tags: tuple[Tag, ...] = ()
    filter: Filter | None = None
    noncurrent_expiration: NoncurrentExpiration | None = None
    noncurrent_transitions: tuple[NoncurrentTransition, ...] = ()
    atime_base: int | None = None

    @property
    def actions(self) -> set[str]:
        named = {"Expiration": self.expiration, "AbortMultipartUpload": self.abort_multipart_upload,
                 "Transition": self.transitions, "NoncurrentVersionExpiration": self.noncurrent_expiration,
                 "NoncurrentVersionTransition": self.noncurrent_transitions}
        return {name for name, action in named.items() if action}


@dataclass(frozen=True)
class Configuration:
    rules: tuple[Rule, ...] = field(default_factory=tuple)


# --- validation ----------------------------------------------------------------------------

def normalize(rules: Iterable[Rule], *, allow_same_action_overlap: bool = False) -> Configuration:
    """Check ``rules`` as OSS does and give rules without an ID a generated one."""
    rules = [r if r.id else replace(r, id=_generated_id()) for r in rules]
    if not rules:
        raise InvalidArgument("A lifecycle configuration needs at least one rule.", name="Rule")
    if len(rules) > MAX_RULES:
        raise InvalidArgument(f"A lifecycle configuration holds at most {MAX_RULES} rules, not {len(rules)}.",
                              name="Rule")
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise InvalidArgument(f"Rule ID {rule.id!r} is used by more than one rule.", name="ID", value=rule.id)
        seen.add(rule.id)
        _check_rule(rule)
    if not allow_same_action_overlap:
        _check_overlaps(rules)
    return Configuration(tuple(rules))


def _generated_id() -> str:
    return f"rule-{secrets.token_hex(8)}"


def _check_rule(rule: Rule) -> None:
    where = f"rule {rule.id!r}"
    if len(rule.id) > MAX_ID_LENGTH:
        raise InvalidArgument(f"The ID of {where} is longer than {MAX_ID_LENGTH} characters.", name="ID")
    if not rule.actions:
        raise InvalidArgument(f"{where} has no action: give it Expiration, AbortMultipartUpload or Transition.",
                              name="Rule", value=rule.id)
    if rule.expiration is not None:
        e = rule.expiration
        _exactly_one(where, "Expiration", Days=e.days, CreatedBeforeDate=e.created_before_ms, Date=e.date_ms,
                     ExpiredObjectDeleteMarker=e.expired_object_delete_marker)
        _check_when(where, "Expiration", e.days, e.created_before_ms)
        if e.date_ms is not None:
            _check_midnight(where, "Expiration/Date", e.date_ms)
    if rule.abort_multipart_upload is not None:
        a = rule.abort_multipart_upload
        _exactly_one(where, "AbortMultipartUpload", Days=a.days, CreatedBeforeDate=a.created_before_ms)
        _check_when(where, "AbortMultipartUpload", a.days, a.created_before_ms)
        if rule.tags:
            raise InvalidArgument(f"{where} filters by tag, and parts of uploads have no tags: a rule with Tag "
                                  "cannot have AbortMultipartUpload.", name="Tag")
    for t in rule.transitions:
        _exactly_one(where, "Transition", Days=t.days, CreatedBeforeDate=t.created_before_ms)
        _check_when(where, "Transition", t.days, t.created_before_ms)
        _check_class(where, "Transition", t.storage_class)
    _check_transition_order(where, rule)
    if rule.noncurrent_expiration is not None:
        _check_days(where, "NoncurrentVersionExpiration", rule.noncurrent_expiration.days)
    for t in rule.noncurrent_transitions:
        _check_days(where, "NoncurrentVersionTransition", t.days)
        _check_class(where, "NoncurrentVersionTransition", t.storage_class)
    if rule.filter is not None:
        _check_filter(where, rule)


def _exactly_one(where: str, action: str, **choices: Any) -> None:
    given = [name for name, value in choices.items() if value is not None]
    if len(given) != 1:
        options = " | ".join(choices)
        found = ", ".join(given) or "none"
        raise InvalidArgument(f"{action} of {where} needs exactly one of {options} (found: {found}).", name=action)


def _check_when(where: str, action: str, days: int | None, created_before_ms: int | None) -> None:
    if days is not None:
        _check_days(where, action, days)
    if created_before_ms is not None:
        _check_midnight(where, f"{action}/CreatedBeforeDate", created_before_ms)


def _check_days(where: str, action: str, days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidArgument(f"{action} of {where}: Days must be an integer from 1 to {MAX_DAYS}, not {days}.",
                              name="Days", value=str(days))


def _check_midnight(where: str, what: str, ms: int) -> None:
    if ms % DAY_MS:
        raise InvalidArgument(f"{what} of {where} must be a date at midnight UTC (T00:00:00.000Z).",
                              name="CreatedBeforeDate")


def _check_class(where: str, action: str, storage_class: str) -> None:
    if storage_class not in TRANSITION_CLASSES:
        raise InvalidArgument(f"{action} of {where}: StorageClass must be one of {', '.join(TRANSITION_CLASSES)}, "
                              f"not {storage_class!r}.", name="StorageClass", value=storage_class)


def _check_transition_order(where: str, rule: Rule) -> None:
    """Colder classes come later, and everything comes before expiration (compared like for like)."""
    by_days = sorted((t for t in rule.transitions if t.days is not None), key=lambda t: t.days or 0)
    by_date = sorted((t for t in rule.transitions if t.created_before_ms is not None),
                     key=lambda t: -(t.created_before_ms or 0))
    for ordered in (by_days, by_date):
        ranks = [TRANSITION_CLASSES.index(t.storage_class) for t in ordered]
        if len(set(ranks)) != len(ranks) or ranks != sorted(ranks):
            raise InvalidArgument(f"The transitions of {where} must move objects to ever colder classes as they "
                                  "age, each class once.", name="Transition")
    expiration = rule.expiration
    if expiration is not None and expiration.days is not None and by_days and by_days[-1].days >= expiration.days:
        raise InvalidArgument(f"{where} expires objects after {expiration.days} days, so its transitions must "
                              "happen sooner.", name="Transition")
    if (expiration is not None and expiration.created_before_ms is not None and by_date
            and by_date[-1].created_before_ms <= expiration.created_before_ms):
        raise InvalidArgument(f"{where} expires objects created before a date, so its transitions must use a "
                              "later date.", name="Transition")


def _check_filter(where: str, rule: Rule) -> None:
    f = rule.filter
    assert f is not None
    for value, name in ((f.size_greater_than, "ObjectSizeGreaterThan"), (f.size_less_than, "ObjectSizeLessThan")):
        if value is not None and not 0 <= value <= MAX_SIZE_FILTER:
            raise InvalidArgument(f"{name} of {where} must be from 0 to {MAX_SIZE_FILTER} bytes.", name=name,
                                  value=str(value))
    if f.size_greater_than is not None and f.size_less_than is not None and f.size_greater_than >= f.size_less_than:
        raise InvalidArgument(f"The size filter of {where} matches nothing: ObjectSizeGreaterThan must be less "
                              "than ObjectSizeLessThan.", name="Filter")
    for exclusion in f.exclusions:
        if not exclusion.prefix.startswith(rule.prefix) or exclusion.prefix == rule.prefix:
            raise InvalidArgument(f"The Not prefix {exclusion.prefix!r} of {where} must be longer than, and start "
                                  f"with, the rule's prefix {rule.prefix!r}.", name="Not", value=exclusion.prefix)
        if exclusion.tag is not None and rule.abort_multipart_upload is not None:
            raise InvalidArgument(f"{where} excludes by tag, and parts of uploads have no tags: it cannot have "
                                  "AbortMultipartUpload.", name="Not")


def _check_overlaps(rules: list[Rule]) -> None:
    """Two rules whose prefixes overlap may not name the same action (OSS refuses it unless the
    request carries ``x-oss-allow-same-action-overlap: true``)."""
    for i, first in enumerate(rules):
        for second in rules[i + 1 :]:
            if not (first.prefix.startswith(second.prefix) or second.prefix.startswith(first.prefix)):
                continue
            shared = first.actions & second.actions
            if shared:
                raise InvalidArgument(
                    f"Rules {first.id!r} and {second.id!r} have overlapping prefixes and the same action "
                    f"({', '.join(sorted(shared))}); send x-oss-allow-same-action-overlap: true to allow it.",
                    name="Prefix",
                )
