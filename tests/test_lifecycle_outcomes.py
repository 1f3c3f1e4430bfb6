"""What a lifecycle outcome names and counts, what the run log keeps of it, how the admin
command prints it, and when the next scheduled run is — pure logic, no server."""

from __future__ import annotations

import datetime

from tessera.cli.lifecycle_text import age_text, outcome_lines, shown
from tessera.core.lifecycle.engine import ActedOn, Outcome
from tessera.core.lifecycle.runs import _logged_outcome
from tessera.core.lifecycle.schedule import LifecycleSchedule

DAY_MS = 86_400_000


def upload(key: str, size: int, parts: int) -> ActedOn:
    return ActedOn(key, DAY_MS, size, f"ID-{key}", parts)


def test_totals_count_everything_while_only_the_first_are_named() -> None:
    outcome = Outcome("b", "parts", "AbortMultipartUpload")
    outcome.add([upload("a", 5, 1), upload("b", 7, 2)], named=3)
    assert (outcome.matched, outcome.truncated) == (2, False)
    outcome.add([upload("c", 1, 1), upload("d", 2, 1)], named=3)
    assert [a.key for a in outcome.items] == ["a", "b", "c"]
    assert (outcome.matched, outcome.parts, outcome.bytes, outcome.truncated) == (4, 5, 15, True)


def test_naming_none_still_counts() -> None:
    outcome = Outcome("b", "logs", "Expiration")
    outcome.add([ActedOn("k", 1, 3)], named=0)
    assert (outcome.matched, outcome.bytes, outcome.items, outcome.truncated) == (1, 3, [], True)


def test_the_log_keeps_the_totals_and_the_first_few_items() -> None:
    outcome = Outcome("b", "parts", "AbortMultipartUpload")
    outcome.add([upload(str(i), 1, 1) for i in range(8)], named=200)
    kept = outcome.keeping(5)
    assert [a.key for a in kept.items] == ["0", "1", "2", "3", "4"] and kept.truncated
    assert (kept.matched, kept.parts, kept.bytes) == (8, 8, 8) and len(outcome.items) == 8
    assert not outcome.keeping(8).truncated


def test_runs_logged_before_items_were_named_read_as_keys_of_unknown_age() -> None:
    old = {"bucket": "b", "rule_id": "sweep", "action": "AbortMultipartUpload", "matched": 3, "parts": 1,
           "bytes": 9, "examples": ["a", "b"]}
    outcome = _logged_outcome(old)
    assert outcome.items == [ActedOn("a", None, None), ActedOn("b", None, None)] and outcome.truncated
    assert "        ?              ?      ?" in "\n".join(outcome_lines([outcome]))


def test_printed_outcomes_name_keys_upload_ids_and_ages() -> None:
    outcome = Outcome("b", "parts", "AbortMultipartUpload")
    outcome.add([ActedOn("tmp/a", 3 * DAY_MS + 4 * 3_600_000, 5, "0004B9AA", 1), upload("tmp/b", 1, 1)], named=1)
    lines = outcome_lines([outcome])
    assert "bucket b, rule parts, AbortMultipartUpload: 2 upload(s), 2 part(s), 6 bytes" in lines
    assert "     3 d 4 h              5      1 0004B9AA  tmp/a" in lines and "  … and 1 more" in lines


def test_ages_read_in_their_two_largest_units() -> None:
    assert [age_text(ms) for ms in (0, 42_000, 125_000, 5 * 3_600_000 + 120_000, DAY_MS)] == [
        "0 s", "42 s", "2 min 5 s", "5 h 2 min", "1 d 0 h"]


def test_keys_that_would_break_a_line_are_quoted() -> None:
    assert shown("logs/a b") == "logs/a b" and shown("evil\n\x1b[2J") == repr("evil\n\x1b[2J")


def test_next_daily_run_is_the_next_time_of_day() -> None:
    at = int(datetime.datetime(2026, 12, 2, 3, 30, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    schedule = LifecycleSchedule(daily_at=(4, 0))
    assert schedule.next_run_ms(at, last_scheduled_ms=None) == at + 30 * 60_000
    assert LifecycleSchedule(daily_at=(2, 0)).next_run_ms(at, last_scheduled_ms=None) == at + DAY_MS - 90 * 60_000


def test_next_run_at_an_interval_counts_from_the_last_scheduled_run() -> None:
    schedule = LifecycleSchedule(every_seconds=60)
    assert schedule.next_run_ms(1_000_000, last_scheduled_ms=None) is None
    assert schedule.next_run_ms(1_000_000, last_scheduled_ms=980_000) == 1_040_000
    assert schedule.next_run_ms(1_000_000, last_scheduled_ms=100_000) == 1_000_000  # due: not in the past
