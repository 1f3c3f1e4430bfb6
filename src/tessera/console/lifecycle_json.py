"""Lifecycle rules as the console carries them: JSON from the domain's own rule model
(``core.lifecycle.rules``), not OSS XML (docs/lifecycle.md, Rule JSON).

Field names are the dataclasses' own, in snake_case; the only changes are dates, written
``YYYY-MM-DD`` (a date, since OSS dates are midnights UTC) under names without ``_ms``
(``created_before``, ``date``). Encoding writes every field (null or [] when absent), so a
page that edits a few fields sends the rest back untouched; decoding takes missing and null
fields as absent and refuses unknown ones.

Decoded rules are checked by the same ``normalize()`` as PutBucketLifecycle, so the console can
save nothing OSS would refuse; every refusal is a ``RuleJsonError`` naming the JSON field it is
about, e.g. ``rules[2].abort_multipart_upload.days``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Sequence, TypeVar

from tessera.core.errors import InvalidArgument
from tessera.core.lifecycle.rules import (
    DAY_MS,
    MAX_DAYS,
    MAX_RULES,
    TRANSITION_CLASSES,
    AbortMultipartUpload,
    Configuration,
    Exclusion,
    Expiration,
    Filter,
    NoncurrentExpiration,
    NoncurrentTransition,
    Rule,
    Tag,
    Transition,
    normalize,
)

T = TypeVar("T")
Json = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Where normalize()'s refusals point (its names are OSS's elements) as fields of one rule.
_FIELDS = {
    "ID": "id", "Prefix": "prefix", "Rule": "", "Tag": "tags", "Not": "filter.exclusions", "Filter": "filter",
    "Expiration": "expiration", "AbortMultipartUpload": "abort_multipart_upload", "Transition": "transitions",
    "ObjectSizeGreaterThan": "filter.size_greater_than", "ObjectSizeLessThan": "filter.size_less_than",
    "NoncurrentVersionExpiration": "noncurrent_expiration",
    "NoncurrentVersionTransition": "noncurrent_transitions",
}


class RuleJsonError(ValueError):
    """A rule the console cannot save; ``field`` names where in the JSON (``rule.prefix``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- encoding ------------------------------------------------------------------------------

def rule_to_json(rule: Rule) -> Json:
    """Every field of ``rule``, JSON-able."""
    f = rule.filter
    return {
        "id": rule.id,
        "prefix": rule.prefix,
        "enabled": rule.enabled,
        "expiration": None if rule.expiration is None else {
            "days": rule.expiration.days, "created_before": _date_text(rule.expiration.created_before_ms),
            "date": _date_text(rule.expiration.date_ms),
            "expired_object_delete_marker": rule.expiration.expired_object_delete_marker,
        },
        "abort_multipart_upload": None if rule.abort_multipart_upload is None else {
            "days": rule.abort_multipart_upload.days,
            "created_before": _date_text(rule.abort_multipart_upload.created_before_ms),
        },
        "transitions": [{"storage_class": t.storage_class, "days": t.days,
                         "created_before": _date_text(t.created_before_ms), **_flags(t)} for t in rule.transitions],
        "tags": [_tag_json(t) for t in rule.tags],
        "filter": None if f is None else {
            "size_greater_than": f.size_greater_than, "size_less_than": f.size_less_than,
            "exclusions": [{"prefix": x.prefix, "tag": None if x.tag is None else _tag_json(x.tag)}
                           for x in f.exclusions],
        },
        "noncurrent_expiration": None if rule.noncurrent_expiration is None else {
            "days": rule.noncurrent_expiration.days},
        "noncurrent_transitions": [{"days": t.days, "storage_class": t.storage_class, **_flags(t)}
                                   for t in rule.noncurrent_transitions],
        "atime_base": rule.atime_base,
    }


def configuration_to_json(config: Configuration) -> list[Json]:
    return [rule_to_json(r) for r in config.rules]


def _date_text(ms: int | None) -> str | None:
    return None if ms is None else (_EPOCH + timedelta(milliseconds=ms)).date().isoformat()


def _tag_json(tag: Tag) -> Json:
    return {"key": tag.key, "value": tag.value}


def _flags(t: Transition | NoncurrentTransition) -> Json:
    return {"is_access_time": t.is_access_time, "return_to_std_when_visit": t.return_to_std_when_visit,
            "allow_small_file": t.allow_small_file}


# --- decoding ------------------------------------------------------------------------------

def configuration_from_json(data: object, *, where: str = "rules",
                            allow_same_action_overlap: bool = False) -> Configuration:
    """A whole rule list (a JSON array) decoded and validated."""
    items = _list(data, where)
    rules = [rule_from_json(item, f"{where}[{i}]") for i, item in enumerate(items)]
    return validated(rules, [f"{where}[{i}]" for i in range(len(rules))],
                     allow_same_action_overlap=allow_same_action_overlap)


def rule_from_json(data: object, where: str = "rule") -> Rule:
    """One rule, its fields' types and ranges checked (the rules between fields are
    ``validated``'s)."""
    d = _object(data, where, {"id", "prefix", "enabled", "expiration", "abort_multipart_upload", "transitions",
                              "tags", "filter", "noncurrent_expiration", "noncurrent_transitions", "atime_base"})
    return Rule(
        id=_str(d, "id", where) or "",
        prefix=_str(d, "prefix", where) or "",
        enabled=_value(d, "enabled", where, bool, "true or false", default=True),
        expiration=_nested(d, "expiration", where, _expiration),
        abort_multipart_upload=_nested(d, "abort_multipart_upload", where, _abort),
        transitions=tuple(_transition(x, f"{where}.transitions[{i}]")
                          for i, x in enumerate(_list(d.get("transitions"), f"{where}.transitions"))),
        tags=tuple(_tag(x, f"{where}.tags[{i}]") for i, x in enumerate(_list(d.get("tags"), f"{where}.tags"))),
        filter=_nested(d, "filter", where, _filter),
        noncurrent_expiration=_nested(d, "noncurrent_expiration", where, lambda x, w: NoncurrentExpiration(
            _days(_object(x, w, {"days"}), w, required=True))),
        noncurrent_transitions=tuple(
            _noncurrent_transition(x, f"{where}.noncurrent_transitions[{i}]")
            for i, x in enumerate(_list(d.get("noncurrent_transitions"), f"{where}.noncurrent_transitions"))),
        atime_base=_int(d, "atime_base", where),
    )


def validated(rules: Sequence[Rule], wheres: Sequence[str], *,
              allow_same_action_overlap: bool = False) -> Configuration:
    """``rules`` checked by ``normalize()`` — each on its own, then together — with a refusal
    pointing at the field of the rule it is about (``wheres[i]`` names where rule ``i`` came
    from: ``rules[3]``, or ``rule`` for the one being added)."""
    if not rules or len(rules) > MAX_RULES:
        _normalized(list(rules), "rules", allow_same_action_overlap=True)
    for rule, where in zip(rules, wheres):
        _normalized([rule], where, allow_same_action_overlap=True)
    try:
        return normalize(rules, allow_same_action_overlap=allow_same_action_overlap)
    except InvalidArgument as whole:
        # A duplicate ID or an overlap is between two rules: name the later one, found as the
        # shortest run of leading rules that is already refused (a run refused stays refused
        # when it grows, so a binary search finds it).
        low, high = 2, len(rules)
        while low < high:
            middle = (low + high) // 2
            try:
                normalize(rules[:middle], allow_same_action_overlap=allow_same_action_overlap)
                low = middle + 1
            except InvalidArgument:
                high = middle
        raise RuleJsonError(whole.message, _field(wheres[low - 1], whole)) from None


def _normalized(rules: list[Rule], where: str, *, allow_same_action_overlap: bool) -> None:
    try:
        normalize(rules, allow_same_action_overlap=allow_same_action_overlap)
    except InvalidArgument as refused:
        raise RuleJsonError(refused.message, _field(where, refused)) from None


def _field(where: str, refused: InvalidArgument) -> str:
    name = _FIELDS.get(refused.details.get("ArgumentName", ""), "")
    return f"{where}.{name}" if name else where


def _expiration(data: object, where: str) -> Expiration:
    d = _object(data, where, {"days", "created_before", "date", "expired_object_delete_marker"})
    return Expiration(days=_days(d, where), created_before_ms=_date(d, "created_before", where),
                      date_ms=_date(d, "date", where),
                      expired_object_delete_marker=_value(d, "expired_object_delete_marker", where, bool,
                                                          "true or false"))


def _abort(data: object, where: str) -> AbortMultipartUpload:
    d = _object(data, where, {"days", "created_before"})
    return AbortMultipartUpload(days=_days(d, where), created_before_ms=_date(d, "created_before", where))


def _transition(data: object, where: str) -> Transition:
    d = _object(data, where, {"storage_class", "days", "created_before", *_FLAGS})
    return Transition(storage_class=_class(d, where), days=_days(d, where),
                      created_before_ms=_date(d, "created_before", where), **_decoded_flags(d, where))


def _noncurrent_transition(data: object, where: str) -> NoncurrentTransition:
    d = _object(data, where, {"storage_class", "days", *_FLAGS})
    return NoncurrentTransition(days=_days(d, where, required=True), storage_class=_class(d, where),
                                **_decoded_flags(d, where))


_FLAGS = ("is_access_time", "return_to_std_when_visit", "allow_small_file")


def _decoded_flags(d: Json, where: str) -> dict[str, bool | None]:
    return {name: _value(d, name, where, bool, "true or false") for name in _FLAGS}


def _tag(data: object, where: str) -> Tag:
    d = _object(data, where, {"key", "value"})
    key = _str(d, "key", where)
    if not key:
        raise RuleJsonError(f"{where}.key: a tag needs a key.", f"{where}.key")
    return Tag(key, _str(d, "value", where) or "")


def _filter(data: object, where: str) -> Filter:
    d = _object(data, where, {"size_greater_than", "size_less_than", "exclusions"})
    exclusions = []
    for i, item in enumerate(_list(d.get("exclusions"), f"{where}.exclusions")):
        w = f"{where}.exclusions[{i}]"
        x = _object(item, w, {"prefix", "tag"})
        exclusions.append(Exclusion(_str(x, "prefix", w) or "", _nested(x, "tag", w, _tag)))
    return Filter(size_greater_than=_int(d, "size_greater_than", where),
                  size_less_than=_int(d, "size_less_than", where), exclusions=tuple(exclusions))


# --- fields --------------------------------------------------------------------------------

def _object(data: object, where: str, known: set[str]) -> Json:
    if not isinstance(data, dict):
        raise RuleJsonError(f"{where} must be a JSON object.", where)
    unknown = sorted(set(data) - known)
    if unknown:
        raise RuleJsonError(f"{where} has no field {unknown[0]!r} (known: {', '.join(sorted(known))}).",
                            f"{where}.{unknown[0]}")
    return data


def _list(data: object, where: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise RuleJsonError(f"{where} must be a JSON array.", where)
    return data


def _nested(d: Json, name: str, where: str, decode: Callable[[object, str], T]) -> T | None:
    value = d.get(name)
    return None if value is None else decode(value, f"{where}.{name}")


def _value(d: Json, name: str, where: str, kind: type[T], spelled: str, *, default: T | None = None) -> T | None:
    value = d.get(name)
    if value is None:
        return default
    # bool is an int in Python, and true is not a number of days in JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RuleJsonError(f"{where}.{name} must be {spelled}, not {value!r}.", f"{where}.{name}")
    return value


def _str(d: Json, name: str, where: str) -> str | None:
    return _value(d, name, where, str, "a string")


def _int(d: Json, name: str, where: str) -> int | None:
    return _value(d, name, where, int, "a whole number")


def _days(d: Json, where: str, *, required: bool = False) -> int | None:
    days = _int(d, "days", where)
    if days is None and required:
        raise RuleJsonError(f"{where} needs days.", f"{where}.days")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise RuleJsonError(f"{where}.days must be a whole number from 1 to {MAX_DAYS}, not {days}.",
                            f"{where}.days")
    return days


def _class(d: Json, where: str) -> str:
    storage_class = _str(d, "storage_class", where)
    if storage_class not in TRANSITION_CLASSES:
        raise RuleJsonError(f"{where}.storage_class must be one of {', '.join(TRANSITION_CLASSES)}, "
                            f"not {storage_class!r}.", f"{where}.storage_class")
    return storage_class


def _date(d: Json, name: str, where: str) -> int | None:
    text = _str(d, name, where)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise RuleJsonError(f"{where}.{name} must be a date written YYYY-MM-DD, not {text!r}.",
                            f"{where}.{name}") from None
    return (day - _EPOCH.date()).days * DAY_MS
