"""What stored bytes count for: objects and the parts of incomplete uploads, per storage class.

Parts are counted at their upload's storage class by their actual size. Objects of the classes
that OSS bills with a minimum (IA, Archive, ColdArchive, DeepColdArchive) count at least
64 KB each in their billed size; their real size is kept alongside.

Those classes also have a minimum storage duration: IA 30 days, Archive 60, ColdArchive and
DeepColdArchive 180. An object that leaves its class sooner — deleted, overwritten (a
CopyObject onto itself included), or moved to another class by a lifecycle rule — is charged
the rest of the minimum at that class's price, as OSS does. IA and Archive count from the
object's last modified time (so days spent in IA count towards Archive's 60 after a lifecycle
transition); ColdArchive and DeepColdArchive from when a lifecycle rule moved the object there,
or from its last modified time if it was written in that class. Parts have no minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OBJECT, PART, UPLOAD = "object", "part", "upload"
EARLY_DELETION = "early-deletion"  # a usage line: the rest of minimum storage durations, charged
MIN_BILLED_OBJECT = 64 * 1024
MINIMUM_SIZE_CLASSES = frozenset({"IA", "Archive", "ColdArchive", "DeepColdArchive"})


MINIMUM_DAYS = {"IA": 30, "Archive": 60, "ColdArchive": 180, "DeepColdArchive": 180}
COUNTED_FROM_TRANSITION = frozenset({"ColdArchive", "DeepColdArchive"})


def billed_size(kind: str, storage_class: str, size: int) -> int:
    """The billed size of one object or part."""
    if kind == OBJECT and storage_class in MINIMUM_SIZE_CLASSES:
        return max(size, MIN_BILLED_OBJECT)
    return size


@dataclass
class Tally:
    count: int = 0
    bytes: int = 0  # real size
    billed_bytes: int = 0


@dataclass
class BucketUsage:
    """A bucket's counters, as (storage class, kind) → Tally."""

    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)

    def get(self, storage_class: str | None, kind: str) -> Tally:
        """One class, or all classes summed when ``storage_class`` is None."""
        total = Tally()
        for (cls, k), tally in self.tallies.items():
            if k == kind and storage_class in (None, cls):
                total.count += tally.count
                total.bytes += tally.bytes
                total.billed_bytes += tally.billed_bytes
        return total


HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def minimum_counted_from(storage_class: str, last_modified_ms: int, transitioned_ms: int | None) -> int:
    """When an object's minimum storage duration in ``storage_class`` began."""
    if storage_class in COUNTED_FROM_TRANSITION and transitioned_ms is not None:
        return transitioned_ms
    return last_modified_ms


def early_charge_ms(storage_class: str, counted_from_ms: int, left_ms: int) -> int:
    """How much of the class's minimum storage duration is left to charge when an object
    leaves the class at ``left_ms`` (0 when the minimum has passed, or there is none)."""
    minimum_ms = MINIMUM_DAYS.get(storage_class, 0) * DAY_MS
    return max(0, minimum_ms - max(0, left_ms - counted_from_ms))
GB = 1024**3  # OSS bills storage in GB of 2^30 bytes


@dataclass
class UsageLine:
    """Storage over a window for one bucket × storage class × kind, as byte-milliseconds."""

    bucket: str
    storage_class: str
    kind: str
    billed_byte_ms: int = 0
    real_byte_ms: int = 0
    cost: float = 0.0  # at the operator's prices (tessera.core.prices)

    @property
    def billed_gb_hours(self) -> float:
        return self.billed_byte_ms / GB / HOUR_MS

    @property
    def real_gb_hours(self) -> float:
        return self.real_byte_ms / GB / HOUR_MS


def integrate(levels: dict[tuple, tuple[int, int]], changes: list[tuple[tuple, int, int, int]], start_ms: int,
              end_ms: int) -> dict[tuple, tuple[int, int]]:
    """Exact (billed, real) byte-milliseconds per counter over [start_ms, end_ms).

    ``levels`` are the counters' (billed, real) bytes at ``start_ms``; ``changes`` are
    (counter, at_ms, billed delta, real delta), oldest first, inside the window. Stored bytes are
    constant between changes, so the integral is a sum of rectangles — bytes that came and went
    inside the window count for exactly as long as they were there.
    """
    level = dict(levels)
    since = {counter: start_ms for counter in level}
    totals: dict[tuple, list[int]] = {counter: [0, 0] for counter in level}
    for counter, at_ms, billed, real in changes:
        current = level.get(counter, (0, 0))
        total = totals.setdefault(counter, [0, 0])
        elapsed = at_ms - since.get(counter, start_ms)
        total[0] += current[0] * elapsed
        total[1] += current[1] * elapsed
        level[counter] = (current[0] + billed, current[1] + real)
        since[counter] = at_ms
    for counter, (billed, real) in level.items():
        elapsed = end_ms - since.get(counter, start_ms)
        totals.setdefault(counter, [0, 0])
        totals[counter][0] += billed * elapsed
        totals[counter][1] += real * elapsed
    return {counter: (b, r) for counter, (b, r) in totals.items()}



def step_of(at_ms: int, start_ms: int, end_ms: int, points: int) -> int:
    """Which of ``points`` instants evenly spaced over [start_ms, end_ms] (``even_instants``) a
    change at ``at_ms`` >= start_ms first counts at: the first instant at or after it; ``points``
    when it is after the last. ``meta.usage.ledger_steps`` computes the same in SQL."""
    if at_ms > end_ms:
        return points
    span = end_ms - start_ms
    if span == 0:
        return 0
    # instants[i] = start + span * i // (points - 1) >= at_ms  <=>  i >= (at_ms - start) * (points - 1) / span
    return ((at_ms - start_ms) * (points - 1) + span - 1) // span


def accumulate(now: dict[tuple, tuple[int, int]], steps: dict[tuple, dict[int, tuple[int, int]]],
               points: int) -> dict[tuple, list[tuple[int, int]]]:
    """(billed, real) bytes of each counter at each of ``points`` instants.

    ``now`` are the counters' levels now; ``steps`` the ledger's changes since the first instant,
    summed per counter and ``step_of``: step ``i`` holds what first counts at instant ``i``, step
    ``points`` what came after the last. The level before the first instant is the level now
    less every change since; each instant adds its step. So a window reads only its own part of
    the ledger (and what followed it), never the history before it.
    """
    levels: dict[tuple, list[tuple[int, int]]] = {}
    for counter in set(now) | set(steps):
        changes = steps.get(counter, {})
        billed, real = now.get(counter, (0, 0))
        billed -= sum(b for b, _ in changes.values())
        real -= sum(r for _, r in changes.values())
        values = []
        for step in range(points):
            b, r = changes.get(step, (0, 0))
            billed, real = billed + b, real + r
            values.append((billed, real))
        levels[counter] = values
    return levels
