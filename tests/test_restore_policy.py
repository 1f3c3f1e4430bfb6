"""The rules of restoring cold objects, on their own: states from stored instants, what each
RestoreObject request does, and the --restore-delay values."""

from __future__ import annotations

import pytest

from tessera.core.errors import InvalidObjectState, MalformedXML, OperationNotSupported, RestoreAlreadyInProgress
from tessera.core.models import ObjectAttributes, ObjectInfo, ObjectRestore
from tessera.core.restore_policy import (
    DEFAULT_DELAYS,
    RestoreState,
    RestoreTiming,
    check_readable,
    parse_delays,
    plan_restore,
    state,
)

SECOND = 1000
TIMING = RestoreTiming({**DEFAULT_DELAYS, ("ColdArchive", "Expedited"): 10, ("ColdArchive", "Standard"): 100,
                        ("ColdArchive", "Bulk"): 1000, ("Archive", ""): 60}, day_seconds=86_400)
DAY = 86_400 * SECOND
NOW = 1_700_000_000_000


def info(storage_class: str, restore: ObjectRestore | None = None) -> ObjectInfo:
    return ObjectInfo(bucket="b", key="k", size=1, etag="E", crc64="0", content_md5=None,
                      attributes=ObjectAttributes(storage_class=storage_class), object_type="Normal",
                      last_modified_ms=0, blob_id="x", upload_id=None, restore=restore)


def test_a_restore_is_restoring_until_ready_then_restored_until_it_expires() -> None:
    restore = ObjectRestore(requested_ms=NOW, ready_ms=NOW + 60 * SECOND, expires_ms=NOW + 60 * SECOND + DAY, tier="")
    assert state(None, NOW) is RestoreState.FROZEN
    assert state(restore, NOW + 59_999) is RestoreState.RESTORING
    assert state(restore, NOW + 60 * SECOND) is RestoreState.RESTORED
    assert state(restore, restore.expires_ms - 1) is RestoreState.RESTORED
    assert state(restore, restore.expires_ms) is RestoreState.FROZEN


@pytest.mark.parametrize("storage_class", ["Archive", "ColdArchive", "DeepColdArchive"])
def test_cold_objects_are_readable_only_while_restored(storage_class: str) -> None:
    with pytest.raises(InvalidObjectState):
        check_readable(info(storage_class), NOW)
    restore = ObjectRestore(NOW, NOW + 1, NOW + DAY, "")
    with pytest.raises(InvalidObjectState):
        check_readable(info(storage_class, restore), NOW)
    check_readable(info(storage_class, restore), NOW + 1)
    with pytest.raises(InvalidObjectState):
        check_readable(info(storage_class, restore), NOW + DAY)


@pytest.mark.parametrize("storage_class", ["Standard", "IA"])
def test_warm_objects_are_always_readable_and_never_restored(storage_class: str) -> None:
    check_readable(info(storage_class), NOW)
    with pytest.raises(OperationNotSupported):
        plan_restore(storage_class, None, NOW, days=1, tier=None, timing=TIMING)


def test_a_first_restore_is_accepted_with_the_class_and_tier_delay() -> None:
    planned = plan_restore("ColdArchive", None, NOW, days=3, tier="Bulk", timing=TIMING)
    assert planned.accepted
    assert planned.restore == ObjectRestore(NOW, NOW + 1000 * SECOND, NOW + 1000 * SECOND + 3 * DAY, "Bulk")
    default = plan_restore("ColdArchive", None, NOW, days=None, tier=None, timing=TIMING)
    assert default.restore == ObjectRestore(NOW, NOW + 100 * SECOND, NOW + 100 * SECOND + DAY, "Standard")
    archive = plan_restore("Archive", None, NOW, days=None, tier="Bulk", timing=TIMING)  # Archive has no tiers
    assert archive.restore == ObjectRestore(NOW, NOW + 60 * SECOND, NOW + 60 * SECOND + DAY, "")


@pytest.mark.parametrize(("storage_class", "days", "tier"), [
    ("Archive", 0, None), ("Archive", 8, None), ("ColdArchive", 366, None), ("DeepColdArchive", 366, None),
    ("ColdArchive", 1, "Test"), ("Archive", 1, "expedited"), ("DeepColdArchive", 1, "Bulk"),
])
def test_days_and_tiers_outside_what_the_class_takes_are_malformed(storage_class: str, days: int,
                                                                   tier: str | None) -> None:
    with pytest.raises(MalformedXML):
        plan_restore(storage_class, None, NOW, days=days, tier=tier, timing=TIMING)


@pytest.mark.parametrize(("storage_class", "days"), [("Archive", 7), ("ColdArchive", 365), ("DeepColdArchive", 365)])
def test_the_longest_days_of_each_class_are_taken(storage_class: str, days: int) -> None:
    assert plan_restore(storage_class, None, NOW, days=days, tier=None, timing=RestoreTiming()).accepted


def test_a_restore_in_progress_is_refused_unless_a_faster_tier_speeds_it_up() -> None:
    started = plan_restore("ColdArchive", None, NOW, days=1, tier="Standard", timing=TIMING).restore
    for tier in (None, "Standard", "Bulk"):
        with pytest.raises(RestoreAlreadyInProgress):
            plan_restore("ColdArchive", started, NOW + SECOND, days=1, tier=tier, timing=TIMING)
    faster = plan_restore("ColdArchive", started, NOW + SECOND, days=2, tier="Expedited", timing=TIMING)
    assert faster.accepted
    assert faster.restore == ObjectRestore(NOW, NOW + 11 * SECOND, NOW + 11 * SECOND + 2 * DAY, "Expedited")
    archive = plan_restore("Archive", None, NOW, days=1, tier=None, timing=TIMING).restore
    with pytest.raises(RestoreAlreadyInProgress):
        plan_restore("Archive", archive, NOW + SECOND, days=1, tier="Expedited", timing=TIMING)


def test_restoring_a_restored_object_extends_it_and_never_shortens_it() -> None:
    restored = ObjectRestore(NOW, NOW + SECOND, NOW + SECOND + 3 * DAY, "")
    later = NOW + DAY
    extended = plan_restore("Archive", restored, later, days=5, tier=None, timing=TIMING)
    assert not extended.accepted
    assert extended.restore == ObjectRestore(NOW, NOW + SECOND, later + 5 * DAY, "")
    kept = plan_restore("Archive", restored, later, days=1, tier=None, timing=TIMING)
    assert kept.restore == restored


def test_an_expired_restore_starts_over() -> None:
    expired = ObjectRestore(NOW, NOW + SECOND, NOW + 2 * SECOND, "Bulk")
    again = plan_restore("ColdArchive", expired, NOW + 3 * SECOND, days=1, tier="Expedited", timing=TIMING)
    assert again.accepted and again.restore.requested_ms == NOW + 3 * SECOND


def test_restore_delays_are_set_for_all_for_a_class_or_for_a_tier() -> None:
    assert parse_delays([]) == DEFAULT_DELAYS
    everything = parse_delays(["2.5"])
    assert set(everything.values()) == {2.5}
    chosen = parse_delays(["1", "ColdArchive=7", "ColdArchive/Bulk=30"])
    assert chosen[("Archive", "")] == 1 and chosen[("DeepColdArchive", "Standard")] == 1
    assert (chosen[("ColdArchive", "Expedited")], chosen[("ColdArchive", "Bulk")]) == (7, 30)


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf", "Archive/Standard=1", "Glacier=1", "=", ""])
def test_restore_delays_that_name_nothing_or_no_time_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_delays([value])
