"""Range headers and conditional requests, as pure logic."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tessera.api.oss.objects import parse_range
from tessera.core import conditions
from tessera.core.errors import InvalidRange, NotModified, PreconditionFailed
from tessera.core.models import ObjectAttributes, ObjectInfo


@pytest.mark.parametrize("header,expected", [
    ("bytes=0-9", (0, 9)),
    ("bytes=5-", (5, 99)),
    ("bytes=-10", (90, 99)),
    ("bytes=-1000", (0, 99)),
    ("bytes=90-1000", (90, 99)),
    ("bytes=9-3", None),
    ("bytes=0-1,5-9", None),
    ("items=0-1", None),
    (None, None),
])
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 100, strict=True) == expected


def test_unsatisfiable_range_depends_on_range_behavior() -> None:
    assert parse_range("bytes=100-", 100, strict=False) is None
    with pytest.raises(InvalidRange):
        parse_range("bytes=100-", 100, strict=True)
    with pytest.raises(InvalidRange):
        parse_range("bytes=0-0", 0, strict=True)


INFO = ObjectInfo("b", "k", 1, "ABCDEF", "0", None, ObjectAttributes(storage_class="Standard"), "Normal",
                  1704164645000, "blob", None)
BEFORE = datetime(2024, 1, 1, tzinfo=timezone.utc)
AFTER = datetime(2024, 1, 3, tzinfo=timezone.utc)


def test_if_match_ignores_quotes_and_case() -> None:
    conditions.check(INFO, conditions.Preconditions(if_match="abcdef"))
    conditions.check(INFO, conditions.Preconditions(if_match='"ABCDEF"'))
    with pytest.raises(PreconditionFailed):
        conditions.check(INFO, conditions.Preconditions(if_match='"other"'))


def test_read_conditions_give_not_modified_copy_conditions_fail() -> None:
    with pytest.raises(NotModified):
        conditions.check(INFO, conditions.Preconditions(if_none_match='"ABCDEF"'))
    with pytest.raises(NotModified):
        conditions.check(INFO, conditions.Preconditions(if_modified_since=AFTER))
    with pytest.raises(PreconditionFailed):
        conditions.check(INFO, conditions.Preconditions(if_modified_since=AFTER), for_copy=True)
    with pytest.raises(PreconditionFailed):
        conditions.check(INFO, conditions.Preconditions(if_unmodified_since=BEFORE))
    conditions.check(INFO, conditions.Preconditions(if_modified_since=BEFORE, if_unmodified_since=AFTER))
