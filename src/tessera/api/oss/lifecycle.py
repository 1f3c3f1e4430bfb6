"""PutBucketLifecycle, GetBucketLifecycle, DeleteBucketLifecycle in OSS XML (docs/wire.md, Lifecycle).

Parsing is order-independent (the SDKs order elements differently) and accepts both SDKs'
spellings of booleans (``True``/``true``) and dates (``…T00:00:00.000Z``, ``…T00:00:00Z``,
microseconds). GET re-emits normalized XML from the stored model: lower-case booleans, ``.000Z``
dates, and ``ID``, ``Prefix`` and ``Status`` always present (docs/wire.md, Lifecycle).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable, TypeVar
from xml.etree.ElementTree import Element

from aiohttp import web

from tessera.api.numbers import decimal
from tessera.api.oss import wire
from tessera.api.oss.context import OssRequest, empty_response, xml_response
from tessera.api.oss.wire import Xml, child_text, children, element, leaf
from tessera.core.clock import epoch_ms
from tessera.core.errors import InvalidArgument, MalformedXML
from tessera.core.lifecycle import config
from tessera.core.lifecycle.rules import (
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
)

T = TypeVar("T")

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
                   r"(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:?[0-9]{2})?)?")


async def put_lifecycle(req: OssRequest) -> web.Response:
    rules = parse_rules(await req.read_small_body())
    await config.put_lifecycle(req.storage, req.bucket, rules, allow_same_action_overlap=allows_overlap(req.http))
    return empty_response()


def parse_rules(body: bytes) -> list[Rule]:
    """The rules of a ``LifecycleConfiguration`` document (not yet validated)."""
    root = wire.parse(body, "LifecycleConfiguration")
    return [_parse_rule(node) for node in children(root, "Rule")]


def allows_overlap(http: web.Request) -> bool:
    return (http.headers.get("x-oss-allow-same-action-overlap") or "").lower() == "true"


async def get_lifecycle(req: OssRequest) -> web.Response:
    return xml_response(render(await config.get_lifecycle(req.storage, req.bucket)))


async def delete_lifecycle(req: OssRequest) -> web.Response:
    await config.delete_lifecycle(req.storage, req.bucket)
    return empty_response(status=204)


# --- parsing ---------------------------------------------------------------------------------

def _parse_rule(node: Element) -> Rule:
    status = child_text(node, "Status")
    if status not in ("Enabled", "Disabled"):
        raise MalformedXML(f"Each Rule needs <Status>Enabled</Status> or <Status>Disabled</Status>, not {status!r}.")
    return Rule(
        id=child_text(node, "ID") or "",
        prefix=child_text(node, "Prefix") or "",
        enabled=status == "Enabled",
        expiration=_optional(node, "Expiration", _expiration),
        abort_multipart_upload=_optional(node, "AbortMultipartUpload", lambda n: AbortMultipartUpload(
            days=_int(n, "Days"), created_before_ms=_date(n, "CreatedBeforeDate"))),
        transitions=tuple(_transition(n) for n in children(node, "Transition")),
        tags=tuple(_tag(n) for n in children(node, "Tag")),
        filter=_optional(node, "Filter", _filter),
        noncurrent_expiration=_optional(node, "NoncurrentVersionExpiration",
                                        lambda n: NoncurrentExpiration(_required_int(n, "NoncurrentDays"))),
        noncurrent_transitions=tuple(_noncurrent_transition(n) for n in children(node, "NoncurrentVersionTransition")),
        atime_base=_int(node, "AtimeBase"),
    )


def _optional(node: Element, tag: str, parse: Callable[[Element], T]) -> T | None:
    found = children(node, tag)
    if len(found) > 1:
        raise MalformedXML(f"A Rule may hold at most one <{tag}>.")
    return parse(found[0]) if found else None


def _expiration(node: Element) -> Expiration:
    return Expiration(days=_int(node, "Days"), created_before_ms=_date(node, "CreatedBeforeDate"),
                      date_ms=_date(node, "Date"),
                      expired_object_delete_marker=_bool(node, "ExpiredObjectDeleteMarker"))


def _transition(node: Element) -> Transition:
    return Transition(storage_class=_required(node, "StorageClass"), days=_int(node, "Days"),
                      created_before_ms=_date(node, "CreatedBeforeDate"), **_transition_flags(node))


def _noncurrent_transition(node: Element) -> NoncurrentTransition:
    return NoncurrentTransition(days=_required_int(node, "NoncurrentDays"),
                                storage_class=_required(node, "StorageClass"), **_transition_flags(node))


def _transition_flags(node: Element) -> dict[str, bool | None]:
    return {"is_access_time": _bool(node, "IsAccessTime"),
            "return_to_std_when_visit": _bool(node, "ReturnToStdWhenVisit"),
            "allow_small_file": _bool(node, "AllowSmallFile")}


def _tag(node: Element) -> Tag:
    return Tag(_required(node, "Key"), child_text(node, "Value") or "")


def _filter(node: Element) -> Filter:
    exclusions = []
    for not_node in children(node, "Not"):
        tags = children(not_node, "Tag")
        exclusions.append(Exclusion(child_text(not_node, "Prefix") or "", _tag(tags[0]) if tags else None))
    return Filter(size_greater_than=_int(node, "ObjectSizeGreaterThan"),
                  size_less_than=_int(node, "ObjectSizeLessThan"), exclusions=tuple(exclusions))


def _present(node: Element, tag: str) -> bool:
    return bool(children(node, tag))


def _required(node: Element, tag: str) -> str:
    if not _present(node, tag):
        raise MalformedXML(f"<{wire.local_name(node)}> needs a <{tag}>.")
    return child_text(node, tag) or ""


def _int(node: Element, tag: str) -> int | None:
    if not _present(node, tag):
        return None
    text = (child_text(node, tag) or "").strip()
    value = decimal(text, signed=True)
    if value is None:
        raise MalformedXML(f"<{tag}> must be an integer, not {text!r}.")
    return value


def _required_int(node: Element, tag: str) -> int:
    value = _int(node, tag)
    if value is None:
        raise MalformedXML(f"<{wire.local_name(node)}> needs a <{tag}>.")
    return value


def _bool(node: Element, tag: str) -> bool | None:
    if not _present(node, tag):
        return None
    text = (child_text(node, tag) or "").strip().lower()  # oss2 writes Python's True/False
    if text not in ("true", "false"):
        raise MalformedXML(f"<{tag}> must be true or false, not {text!r}.")
    return text == "true"


def _date(node: Element, tag: str) -> int | None:
    if not _present(node, tag):
        return None
    return parse_date((child_text(node, tag) or "").strip(), tag)


def parse_date(text: str, tag: str = "CreatedBeforeDate") -> int:
    """An ISO 8601 date or date-time, as milliseconds since the epoch (a fraction of a
    millisecond counts as the next one, so only a true midnight passes for one)."""
    match = _DATE.fullmatch(text)
    if not match:
        raise MalformedXML(f"<{tag}> must be an ISO 8601 date such as 2026-01-01T00:00:00.000Z, not {text!r}.")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0").ljust(6, "0")[:6]), tzinfo=_zone(zone))
    except ValueError:
        raise MalformedXML(f"<{tag}> is not a real date: {text!r}.") from None
    try:
        return epoch_ms(moment + timedelta(microseconds=-moment.microsecond % 1000))
    except (OverflowError, ValueError):
        raise InvalidArgument(f"<{tag}> is outside the years 1 to 9999 in UTC: {text!r}.", name=tag,
                              value=text) from None


def _zone(zone: str | None) -> timezone:
    if not zone or zone == "Z":
        return timezone.utc
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(offset if zone[0] == "+" else -offset)  # ValueError from a day or more


# --- rendering -------------------------------------------------------------------------------

def render(configuration: Configuration) -> Xml:
    return element("LifecycleConfiguration", *(_render_rule(rule) for rule in configuration.rules))


def _render_rule(rule: Rule) -> Xml:
    e, a, f = rule.expiration, rule.abort_multipart_upload, rule.filter
    return element(
        "Rule",
        leaf("ID", rule.id),
        leaf("Prefix", rule.prefix),
        leaf("Status", "Enabled" if rule.enabled else "Disabled"),
        element("Expiration", *_when(e.days, e.created_before_ms), _maybe_date("Date", e.date_ms),
                _maybe("ExpiredObjectDeleteMarker", e.expired_object_delete_marker)) if e else None,
        element("AbortMultipartUpload", *_when(a.days, a.created_before_ms)) if a else None,
        *(element("Transition", *_when(t.days, t.created_before_ms), leaf("StorageClass", t.storage_class),
                  *_flags(t)) for t in rule.transitions),
        *(_render_tag(t) for t in rule.tags),
        element("NoncurrentVersionExpiration", leaf("NoncurrentDays", rule.noncurrent_expiration.days))
        if rule.noncurrent_expiration else None,
        *(element("NoncurrentVersionTransition", leaf("NoncurrentDays", t.days), leaf("StorageClass", t.storage_class),
                  *_flags(t)) for t in rule.noncurrent_transitions),
        element("Filter", _maybe("ObjectSizeGreaterThan", f.size_greater_than),
                _maybe("ObjectSizeLessThan", f.size_less_than),
                *(element("Not", leaf("Prefix", x.prefix), _render_tag(x.tag) if x.tag else None)
                  for x in f.exclusions)) if f else None,
        _maybe("AtimeBase", rule.atime_base),
    )


def _when(days: int | None, created_before_ms: int | None) -> tuple[Xml | None, Xml | None]:
    return _maybe("Days", days), _maybe_date("CreatedBeforeDate", created_before_ms)


def _flags(t: Transition | NoncurrentTransition) -> tuple[Xml | None, ...]:
    return (_maybe("IsAccessTime", t.is_access_time), _maybe("ReturnToStdWhenVisit", t.return_to_std_when_visit),
            _maybe("AllowSmallFile", t.allow_small_file))


def _render_tag(tag: Tag) -> Xml:
    return element("Tag", leaf("Key", tag.key), leaf("Value", tag.value))


def _maybe(tag: str, value: int | bool | None) -> Xml | None:
    return leaf(tag, value) if value is not None else None


def _maybe_date(tag: str, ms: int | None) -> Xml | None:
    return leaf(tag, wire.iso_time(ms)) if ms is not None else None
