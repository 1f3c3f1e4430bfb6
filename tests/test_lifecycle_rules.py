"""Lifecycle rule validation and the date forms the SDKs send."""

from __future__ import annotations

import pytest

from tessera.api.oss.lifecycle import parse_date
from tessera.core.errors import InvalidArgument, MalformedXML
from tessera.core.lifecycle.rules import DAY_MS, AbortMultipartUpload, Expiration, Rule, Transition, normalize

JAN_1_2026 = 20454 * DAY_MS


@pytest.mark.parametrize("text", ["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000Z",
                                  "2026-01-01", "2026-01-01T08:00:00+08:00", "2026-01-01T08:00:00+0800"])
def test_date_forms(text: str) -> None:
    assert parse_date(text) == JAN_1_2026


def test_fractions_are_not_midnight() -> None:
    assert parse_date("2026-01-01T00:00:00.000001Z") == JAN_1_2026 + 1


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00Z", "01/01/2026", "2026-01-01T00:00Z", ""])
def test_bad_dates(text: str) -> None:
    with pytest.raises(MalformedXML):
        parse_date(text)


def test_missing_ids_are_generated_and_unique() -> None:
    config = normalize([Rule("", prefix=f"{i}/", expiration=Expiration(days=1)) for i in range(50)])
    ids = [r.id for r in config.rules]
    assert all(i.startswith("rule-") for i in ids) and len(set(ids)) == 50


def test_transitions_by_date_go_colder_for_older_objects() -> None:
    older_is_colder = Rule("r", transitions=(
        Transition("IA", created_before_ms=JAN_1_2026),
        Transition("Archive", created_before_ms=JAN_1_2026 - 30 * DAY_MS),
    ))
    normalize([older_is_colder])
    with pytest.raises(InvalidArgument):
        normalize([Rule("r", transitions=(
            Transition("Archive", created_before_ms=JAN_1_2026),
            Transition("IA", created_before_ms=JAN_1_2026 - 30 * DAY_MS),
        ))])


def test_different_actions_may_overlap() -> None:
    normalize([Rule("a", prefix="", expiration=Expiration(days=30)),
               Rule("b", prefix="tmp/", abort_multipart_upload=AbortMultipartUpload(days=1))])


def test_daily_schedule_waits_for_the_next_utc_time() -> None:
    from tessera.core.lifecycle.schedule import LifecycleSchedule

    midnight = 20454 * 86_400.0
    daily = LifecycleSchedule((2, 30))
    assert daily.seconds_until_next(midnight) == 2.5 * 3600
    assert daily.seconds_until_next(midnight + 3 * 3600) == 23.5 * 3600
    assert daily.seconds_until_next(midnight + 2.5 * 3600) == 86_400
    assert LifecycleSchedule(every_seconds=5).seconds_until_next(midnight) == 5


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                  "9999-12-31T23:59:59.9999Z"])
def test_dates_outside_the_calendar_in_utc_are_invalid_arguments(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_date(text)


@pytest.mark.parametrize("text", ["2026-01-01T00:00:00+24:00", "٢٠٢٦-01-01", "2026-01-01T00:00:00Z\n"])
def test_offsets_of_a_day_and_foreign_digits_are_malformed(text: str) -> None:
    with pytest.raises(MalformedXML):
        parse_date(text)


def test_calendar_ends_in_utc_are_dates() -> None:
    assert parse_date("0001-01-01T00:00:00Z") == -62135596800000
    assert parse_date("9999-12-31T00:00:00.000Z") == 253402214400000


@pytest.mark.parametrize("action", [
    Expiration(days=2**31), AbortMultipartUpload(days=999_999_999_999_999_999),
    Transition("IA", days=2**31),
])
def test_days_beyond_32_bits_are_refused(action: Expiration | AbortMultipartUpload | Transition) -> None:
    field = {Expiration: "expiration", AbortMultipartUpload: "abort_multipart_upload"}.get(type(action))
    rule = Rule("r", **({field: action} if field else {"transitions": (action,)}))
    with pytest.raises(InvalidArgument) as refused:
        normalize([rule])
    assert refused.value.details["ArgumentName"] == "Days"
    assert normalize([Rule("r", expiration=Expiration(days=2**31 - 1))])
