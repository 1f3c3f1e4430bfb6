"""What stored bytes count for: objects and the parts of incomplete uploads, per storage class.

Parts are counted at their upload's storage class by their actual size. Objects of the classes
that OSS bills with a minimum (IA, Archive, ColdArchive, DeepColdArchive) count at least
64 KB each in their billed size; their real size is kept alongside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OBJECT, PART, UPLOAD = "object", "part", "upload"
MIN_BILLED_OBJECT = 64 * 1024
MINIMUM_SIZE_CLASSES = frozenset({"IA", "Archive", "ColdArchive", "DeepColdArchive"})


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
