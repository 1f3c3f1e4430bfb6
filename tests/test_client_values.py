"""Numbers and instants as clients write them: every malformed or absurd one is refused with a
value the caller can turn into its own error, never an exception of Python's own."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tessera.api.numbers import decimal
from tessera.core.clock import epoch_ms, format_instant, parse_instant
from tessera.core.lifecycle.engine import NEVER, cutoff
from tessera.core.lifecycle.rules import DAY_MS


@pytest.mark.parametrize("text,value", [("0", 0), ("10000", 10000), ("007", 7), ("0" * 5000 + "42", 42),
                                        ("18446744073709551616", 2**64)])
def test_ascii_decimals(text: str, value: int) -> None:
    assert decimal(text) == value


@pytest.mark.parametrize("text", ["", "²", "٣", "1²", " 1", "1 ", "+1", "-1", "0x10", "1e3", "1_000", "1" * 5000,
                                  "1" * 21, None])
def test_everything_else_is_not_a_number(text: str | None) -> None:
    assert decimal(text) is None


def test_signed_decimals() -> None:
    assert (decimal("-5", signed=True), decimal("5", signed=True), decimal("--5", signed=True)) == (-5, 5, None)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00+00:01",
                                  "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.999-00:01"])
def test_instants_outside_the_calendar_in_utc_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "0001-01-01T23:59:00+23:59", "9999-12-31T23:59:59.999Z",
                                  "2024-01-02T03:04:05.123+00:00"])
def test_every_instant_parsed_can_be_formatted_back(text: str) -> None:
    ms = parse_instant(text)
    assert parse_instant(format_instant(ms)) == ms


def test_epoch_ms_is_exact() -> None:
    assert epoch_ms(datetime(2024, 1, 2, 3, 4, 5, 123999, tzinfo=timezone.utc)) == 1704164645123


def test_cutoffs_stay_comparable_whatever_the_days() -> None:
    now = 1_800_000_000_000
    assert cutoff(now, 10, None) == now - 10 * DAY_MS
    assert cutoff(now, 999_999_999_999_999_999, None) == NEVER
    assert cutoff(now, None, -62135596800000) == NEVER
