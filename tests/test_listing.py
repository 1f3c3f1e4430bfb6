"""The listing algorithm over an in-memory key list: prefixes, delimiters, markers, truncation."""

from __future__ import annotations

import asyncio

import pytest

from tessera.core.listing import list_page
from tessera.meta.ranges import Bound, successor

KEYS = sorted(["a", "b/1", "b/2", "b/c/3", "c", "d/1", "e", "é/x", "文"], key=lambda k: k.encode())


def fetch_from(keys: list[str]):
    async def fetch(bound: Bound, limit: int) -> list[str]:
        if bound.inclusive:
            found = [k for k in keys if k.encode() >= bound.key.encode()]
        else:
            found = [k for k in keys if k.encode() > bound.key.encode()]
        return found[:limit]

    return fetch


def page(prefix: str = "", delimiter: str = "", after: str = "", max_items: int = 1000):
    return asyncio.run(list_page(fetch_from(KEYS), lambda k: k, prefix=prefix, delimiter=delimiter,
                                 start=Bound(after), max_items=max_items))


def test_plain_listing_is_byte_ordered() -> None:
    result = page()
    assert result.entries == KEYS and not result.is_truncated


def test_delimiter_rolls_up_prefixes() -> None:
    result = page(delimiter="/")
    assert result.entries == ["a", "c", "e", "文"]
    assert result.common_prefixes == ["b/", "d/", "é/"]


def test_prefix_and_delimiter() -> None:
    result = page(prefix="b/", delimiter="/")
    assert result.entries == ["b/1", "b/2"] and result.common_prefixes == ["b/c/"]


def test_truncation_counts_prefixes_and_resumes_after_marker() -> None:
    first = page(delimiter="/", max_items=2)
    assert first.entries == ["a"] and first.common_prefixes == ["b/"]
    assert first.is_truncated and first.next_marker == "b/"
    second = page(delimiter="/", after=first.next_marker, max_items=2)
    assert second.entries == ["c"] and second.common_prefixes == ["d/"]
    third = page(delimiter="/", after=second.next_marker, max_items=10)
    assert third.entries == ["e", "文"] and third.common_prefixes == ["é/"] and not third.is_truncated


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_paging_visits_everything_once(size: int) -> None:
    seen: list[str] = []
    after = ""
    while True:
        result = page(after=after, max_items=size)
        seen.extend(result.entries)
        if not result.is_truncated:
            break
        after = result.next_marker
    assert seen == KEYS


def test_exact_fit_is_not_truncated() -> None:
    assert not page(max_items=len(KEYS)).is_truncated


def test_successor_bounds_every_extension() -> None:
    assert successor("b/") == "b0"
    assert successor("a\U0010ffff") == "b"
    assert successor("\U0010ffff") is None
    assert successor("\ud7ff") == "\ue000"
