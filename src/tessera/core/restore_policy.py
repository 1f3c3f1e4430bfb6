"""What restoring a cold object means, as OSS defines it (docs/compatibility.md, Cold objects and
RestoreObject) — pure rules over an object's stored timestamps and the clock, no storage.

An Archive, ColdArchive or DeepColdArchive object is *frozen*: its metadata can be read and it
can be deleted, but not its bytes. RestoreObject makes a readable copy after a delay that depends
on the class and the priority (tier), for a number of days. The state is never held in memory:
it is read from the restore's three instants (asked for, ready, expires) against the clock of
each request, so it holds across restarts, workers and gateways.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Mapping

from tessera.core.errors import InvalidObjectState, MalformedXML, OperationNotSupported, RestoreAlreadyInProgress
from tessera.core.models import ObjectInfo, ObjectRestore

COLD_CLASSES = ("Archive", "ColdArchive", "DeepColdArchive")
TIERS = ("Expedited", "Standard", "Bulk")  # fastest first
CLASS_TIERS: Mapping[str, tuple[str, ...]] = {
    "Archive": (),  # no priorities: JobParameters is ignored
    "ColdArchive": ("Expedited", "Standard", "Bulk"),
    "DeepColdArchive": ("Expedited", "Standard"),
}
MAX_DAYS: Mapping[str, int] = {"Archive": 7, "ColdArchive": 365, "DeepColdArchive": 365}
DEFAULT_DAYS = 1
DEFAULT_TIER = "Standard"

HOUR = 3600.0
# Seconds until a restore is readable: the longest OSS documents for each class and priority.
DEFAULT_DELAYS: Mapping[tuple[str, str], float] = {
    ("Archive", ""): 60.0,
    ("ColdArchive", "Expedited"): 1 * HOUR,
    ("ColdArchive", "Standard"): 5 * HOUR,
    ("ColdArchive", "Bulk"): 12 * HOUR,
    ("DeepColdArchive", "Expedited"): 12 * HOUR,
    ("DeepColdArchive", "Standard"): 48 * HOUR,
}
DAY_SECONDS = 86_400.0


class RestoreState(Enum):
    FROZEN = "frozen"  # never restored, or its restored copy expired
    RESTORING = "restoring"
    RESTORED = "restored"


def is_cold(storage_class: str) -> bool:
    return storage_class in COLD_CLASSES


def state(restore: ObjectRestore | None, now_ms: int) -> RestoreState:
    if restore is None or now_ms >= restore.expires_ms:
        return RestoreState.FROZEN
    return RestoreState.RESTORING if now_ms < restore.ready_ms else RestoreState.RESTORED


def check_readable(info: ObjectInfo, now_ms: int) -> None:
    """A cold object's bytes can be read (GET, the source of a copy) only while it is restored."""
    if is_cold(info.attributes.storage_class) and state(info.restore, now_ms) is not RestoreState.RESTORED:
        raise InvalidObjectState()


@dataclass(frozen=True)
class RestoreTiming:
    """How long restores take on this server (``tessera serve --restore-delay``), and how long a
    day of restored state lasts (``--restore-day``: shorter only for tests)."""

    delays: Mapping[tuple[str, str], float] = field(default_factory=lambda: dict(DEFAULT_DELAYS))
    day_seconds: float = DAY_SECONDS

    def delay_ms(self, storage_class: str, tier: str) -> int:
        return round(self.delays[(storage_class, tier)] * 1000)

    @property
    def day_ms(self) -> int:
        return round(self.day_seconds * 1000)


DEFAULT_TIMING = RestoreTiming()


def parse_delays(values: Iterable[str]) -> dict[tuple[str, str], float]:
    """``--restore-delay`` values, applied in order over the defaults: ``SECONDS`` (every class
    and priority), ``CLASS=SECONDS`` (every priority of a class) or ``CLASS/TIER=SECONDS``.
    ValueError names what is wrong."""
    delays = dict(DEFAULT_DELAYS)
    for value in values:
        scope, _, text = value.rpartition("=")
        seconds = _seconds(text)
        storage_class, _, tier = scope.partition("/")
        chosen = [k for k in delays if not scope or (k[0] == storage_class and (not tier or k[1] == tier))]
        if not chosen:
            known = ", ".join(f"{c}/{t}" if t else c for c, t in DEFAULT_DELAYS)
            raise ValueError(f"no restore delay is named {scope!r} (known: {known})")
        for k in chosen:
            delays[k] = seconds
    return delays


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not (0 <= seconds and math.isfinite(seconds)):
        raise ValueError(f"expected a number of seconds, not {text!r}")
    return seconds


@dataclass(frozen=True)
class Planned:
    """What a RestoreObject request does: ``accepted`` when it starts (or speeds up) a restore
    (OSS answers 202), not when the object was restored already and only its expiry moves (200)."""

    accepted: bool
    restore: ObjectRestore


def plan_restore(storage_class: str, current: ObjectRestore | None, now_ms: int, *, days: int | None,
                 tier: str | None, timing: RestoreTiming) -> Planned:
    """The object's restore after a RestoreObject request at ``now_ms``; raises what OSS answers
    a request it refuses."""
    if not is_cold(storage_class):
        raise OperationNotSupported(f"Only Archive, ColdArchive and DeepColdArchive objects can be restored; "
                                    f"this one is {storage_class}.")
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS[storage_class]:
        raise MalformedXML(f"Days must be an integer from 1 to {MAX_DAYS[storage_class]} for {storage_class} objects.")
    if tier is not None and tier not in TIERS:
        raise MalformedXML(f"Tier must be one of {', '.join(TIERS)}, not {tier!r}.")
    if not CLASS_TIERS[storage_class]:
        tier = ""
    else:
        tier = tier or DEFAULT_TIER
        if tier not in CLASS_TIERS[storage_class]:
            raise MalformedXML(f"{storage_class} objects are restored {' or '.join(CLASS_TIERS[storage_class])}, "
                               f"not {tier}.")
    lasting = days * timing.day_ms
    now_state = state(current, now_ms)
    if now_state is RestoreState.FROZEN:
        ready = now_ms + timing.delay_ms(storage_class, tier)
        return Planned(True, ObjectRestore(now_ms, ready, ready + lasting, tier))
    assert current is not None
    if now_state is RestoreState.RESTORING:
        # Only a faster priority changes a restore in progress (it can be sped up, never slowed).
        if not tier or TIERS.index(tier) >= TIERS.index(current.tier or DEFAULT_TIER):
            raise RestoreAlreadyInProgress()
        ready = min(current.ready_ms, now_ms + timing.delay_ms(storage_class, tier))
        return Planned(True, ObjectRestore(current.requested_ms, ready, ready + lasting, tier))
    # Restored: the copy stays readable for at least ``days`` from now; it is never shortened.
    return Planned(False, dataclasses.replace(current, expires_ms=max(current.expires_ms, now_ms + lasting)))
