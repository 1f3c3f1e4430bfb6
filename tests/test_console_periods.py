"""The usage page's period chooser, as pure logic."""

from __future__ import annotations

import pytest

from tessera.console.periods import PeriodError, choose_period
from tessera.core.clock import parse_instant
from tessera.core.metering import DAY_MS

NOW = parse_instant("2026-12-02T04:05:06Z")


def test_the_last_24_hours_unless_told_otherwise() -> None:
    period = choose_period({}, NOW)
    assert (period.choice, period.start_ms, period.end_ms, period.label) == ("24h", NOW - DAY_MS, NOW,
                                                                             "last 24 hours")


@pytest.mark.parametrize("choice, days", [("24h", 1), ("7d", 7), ("30d", 30)])
def test_presets_end_now(choice: str, days: int) -> None:
    period = choose_period({"period": choice, "from": "2020-01-01"}, NOW)  # dates of a preset are ignored
    assert (period.start_ms, period.end_ms) == (NOW - days * DAY_MS, NOW)


def test_custom_dates_include_the_last_day() -> None:
    period = choose_period({"period": "custom", "from": "2026-11-01", "to": "2026-11-30"}, NOW)
    assert period.start_ms == parse_instant("2026-11-01T00:00:00Z")
    assert period.end_ms == parse_instant("2026-12-01T00:00:00Z")
    assert (period.first_day, period.last_day, period.label) == ("2026-11-01", "2026-11-30",
                                                                  "2026-11-01 to 2026-11-30")


def test_one_day_is_a_period() -> None:
    period = choose_period({"from": "2026-11-05", "to": "2026-11-05"}, NOW)
    assert period.end_ms - period.start_ms == DAY_MS and period.choice == "custom"


def test_instants_end_where_they_say() -> None:
    period = choose_period({"from": "2026-11-05T06:00:00Z", "to": "2026-11-05T07:30:00+01:00"}, NOW)
    assert period.end_ms - period.start_ms == 30 * 60 * 1000


@pytest.mark.parametrize("query, field", [
    ({"period": "fortnight"}, "period"),
    ({"period": "custom", "from": "2026-11-01"}, "to"),
    ({"period": "custom", "to": "2026-11-01"}, "from"),
    ({"from": "yesterday", "to": "2026-11-01"}, "from"),
    ({"from": "2026-11-01", "to": "2026-13-01"}, "to"),
    ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
    ({"from": "2026-11-01T05:00:00Z", "to": "2026-11-01T05:00:00Z"}, "to"),
])
def test_periods_that_cannot_be_used_name_the_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(PeriodError) as refused:
        choose_period(query, NOW)
    assert refused.value.field == field


def test_the_ends_of_the_calendar_are_a_period() -> None:
    period = choose_period({"from": "0001-01-01", "to": "9999-12-31"}, NOW)
    assert (period.first_day, period.last_day) == ("0001-01-01", "9999-12-31")
    assert period.end_ms == parse_instant("9999-12-31T23:59:59.999Z")
