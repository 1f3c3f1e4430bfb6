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
