"""Conditional requests: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from tessera.core.errors import NotModified, PreconditionFailed
from tessera.core.models import ObjectInfo


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None


def same_etag(given: str, etag: str) -> bool:
    """ETags compare without quotes and case-insensitively (oss2 sends If-Match unquoted)."""
    candidates = [c.strip().strip('"').upper() for c in given.split(",")]
    return "*" in candidates or etag.upper() in candidates


def check(info: ObjectInfo, conditions: Preconditions, *, for_copy: bool = False) -> None:
    """Raise PreconditionFailed (or NotModified for reads) when a condition does not hold.

    For copy sources every failed condition is a PreconditionFailed: there is no body to
    withhold, only a copy to refuse.
    """
    modified = datetime.fromtimestamp(info.last_modified_ms // 1000, tz=timezone.utc)
    if conditions.if_match is not None and not same_etag(conditions.if_match, info.etag):
        raise PreconditionFailed(Condition="If-Match")
    if conditions.if_unmodified_since is not None and modified > conditions.if_unmodified_since:
        raise PreconditionFailed(Condition="If-Unmodified-Since")
    if conditions.if_none_match is not None and same_etag(conditions.if_none_match, info.etag):
        raise PreconditionFailed(Condition="If-None-Match") if for_copy else NotModified()
    if conditions.if_modified_since is not None and modified <= conditions.if_modified_since:
        raise PreconditionFailed(Condition="If-Modified-Since") if for_copy else NotModified()
