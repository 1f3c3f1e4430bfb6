"""Paging through keys with prefix, delimiter and marker — one algorithm for objects and uploads.

The repository supplies ordered batches starting at a bound; this module rolls keys up into
common prefixes, jumps over each prefix in one query, and decides where the page ends.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Generic, TypeVar

from tessera.core.models import Page
from tessera.meta.ranges import Bound, successor

T = TypeVar("T")

Fetch = Callable[[Bound, int], Awaitable[list[T]]]


class _Collector(Generic[T]):
    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self.entries: list[T] = []
        self.prefixes: list[str] = []
        self.last_key = ""
        self.last_upload_id = ""

    @property
    def full(self) -> bool:
        return len(self.entries) + len(self.prefixes) >= self.max_items


async def list_page(
    fetch: Fetch[T],
    key_of: Callable[[T], str],
    *,
    prefix: str,
    delimiter: str,
    start: Bound,
    max_items: int,
    upload_id_of: Callable[[T], str] | None = None,
) -> Page[T]:
    """One page of at most ``max_items`` entries and common prefixes after ``start``."""
    page: _Collector[T] = _Collector(max_items)
    bound = start if start.key >= prefix else Bound(prefix, None, inclusive=True)
    batch_size = max_items + 1  # one query fills a page and tells whether another follows
    truncated = False
    while not truncated:
        batch = await fetch(bound, batch_size)
        if not batch:
            break
        jumped = False
        for item in batch:
            key = key_of(item)
            if not key.startswith(prefix):  # past the prefix: nothing further can match
                return _finish(page, truncated=False)
            common = _common_prefix(key, prefix, delimiter)
            if common is not None:
                upper = successor(common)
                if common > start.key or (common == start.key and start.inclusive):
                    if page.full:
                        truncated = True
                        break
                    page.prefixes.append(common)
                    page.last_key, page.last_upload_id = common, ""
                if upper is None:
                    return _finish(page, truncated=False)
                bound = Bound(upper, None, inclusive=True)
                jumped = True
                break
            if page.full:
                truncated = True
                break
            page.entries.append(item)
            page.last_key = key
            page.last_upload_id = upload_id_of(item) if upload_id_of else ""
            bound = Bound(key, page.last_upload_id or None)
        if not jumped and not truncated and len(batch) < batch_size:
            break
    return _finish(page, truncated=truncated)


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return key[: at + len(delimiter)] if at >= 0 else None


def _finish(page: _Collector[T], *, truncated: bool) -> Page[T]:
    return Page(
        entries=page.entries,
        common_prefixes=page.prefixes,
        is_truncated=truncated,
        next_marker=page.last_key if truncated else "",
        next_upload_id_marker=page.last_upload_id if truncated else "",
    )
