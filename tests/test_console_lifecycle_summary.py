"""The Lifecycle page's rules in words, and their order (part cleanup first)."""

from __future__ import annotations

from tessera.console.lifecycle_summary import conditions, describe, part_cleanup_first
from tessera.core.lifecycle.rules import (
    DAY_MS,
    AbortMultipartUpload,
    Exclusion,
    Expiration,
    Filter,
    Rule,
    Tag,
    Transition,
)

JAN_1_2026 = 20454 * DAY_MS


def test_each_action_reads_as_a_sentence() -> None:
    rule = Rule("r", abort_multipart_upload=AbortMultipartUpload(days=1), expiration=Expiration(days=90),
                transitions=(Transition("IA", days=30), Transition("Archive", created_before_ms=JAN_1_2026)))
    assert describe(rule) == ["Abort incomplete uploads 1 day after their last part",
                              "Move objects to IA 30 days after last modified",
                              "Move objects to Archive last modified before 2026-01-01",
                              "Expire objects 90 days after last modified"]
    assert describe(Rule("d", expiration=Expiration(date_ms=JAN_1_2026))) == ["Expire objects on 2026-01-01"]
    assert describe(Rule("c", abort_multipart_upload=AbortMultipartUpload(created_before_ms=JAN_1_2026))) == [
        "Abort incomplete uploads last updated before 2026-01-01"]


def test_filters_read_as_conditions() -> None:
    rule = Rule("r", prefix="logs/", expiration=Expiration(days=1), tags=(Tag("team", "a"),),
                filter=Filter(size_greater_than=10, exclusions=(Exclusion("logs/keep/", Tag("hold", "yes")),)))
    assert conditions(rule) == ["tag team=a", "not logs/keep/ with tag hold=yes", "larger than 10 B"]


def test_part_cleanup_rules_come_first_in_saved_order() -> None:
    rules = [Rule("e1", expiration=Expiration(days=1)), Rule("a1", abort_multipart_upload=AbortMultipartUpload(days=1)),
             Rule("e2", expiration=Expiration(days=2)), Rule("a2", abort_multipart_upload=AbortMultipartUpload(days=2))]
    assert [r.id for r in part_cleanup_first(rules)] == ["a1", "a2", "e1", "e2"]
