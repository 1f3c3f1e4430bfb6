"""Pure logic of AppendObject: CRC-64 combination, the Appendable ETag, the segment-merge rule."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone

import pytest

from tessera.blobs.checksums import combine_crcs, crc64, crc64_combine
from tessera.core.appends import appendable_etag, merge_start


@pytest.mark.parametrize("sizes", [[1], [0, 5], [5, 0], [3, 7, 1], [1000, 1, 65536, 2], [1 << 20, 17]])
def test_combined_crc_equals_the_crc_of_the_whole(sizes: list[int]) -> None:
    rng = random.Random(sum(sizes))
    pieces = [rng.randbytes(n) for n in sizes]
    whole = b"".join(pieces)
    running = 0
    for piece in pieces:  # as appends do: the previous CRC with the appended bytes' CRC
        running = crc64_combine(running, crc64(piece), len(piece))
    assert running == crc64(whole)
    assert combine_crcs((crc64(p), len(p)) for p in pieces) == crc64(whole)


def test_crc64_is_crc64_xz() -> None:
    assert crc64(b"123456789") == 0x995DC9BBDF1939FA  # the published check value of CRC-64/XZ


def test_appendable_etag_is_crc_then_second_little_endian() -> None:
    # An AppendObject answer from OSS's documentation: CRC 14741617095266562575, at this second.
    at = datetime(2015, 7, 8, 6, 57, 1, tzinfo=timezone.utc)
    etag = appendable_etag(14741617095266562575, int(at.timestamp() * 1000) + 999)
    assert etag == "0F7230CAA4BE94CCBDC99C5500000000"


def test_merge_start_keeps_each_segment_larger_than_everything_after_it() -> None:
    assert merge_start([]) is None
    assert merge_start([5]) is None
    assert merge_start([5, 4]) is None
    assert merge_start([5, 5]) == 0
    assert merge_start([10, 4, 4]) == 1
    assert merge_start([10, 4, 3, 3]) == 0  # 10 is not larger than 4 + 3 + 3
    assert merge_start([11, 4, 3, 3]) == 1
    assert merge_start([10, 4, 3, 12]) == 0
    assert merge_start([100, 40, 7, 3, 1]) is None


def _simulate(appends: list[int]) -> tuple[int, int, int]:
    """(largest segment count after an append, bytes copied by merges, total bytes)."""
    segments: list[int] = []
    copied = most = 0
    for size in appends:
        segments.append(size)
        start = merge_start(segments)
        if start is not None:
            copied += sum(segments[start:])
            segments[start:] = [sum(segments[start:])]
        assert merge_start(segments) is None  # one merge restores the rule
        most = max(most, len(segments))
    return most, copied, sum(appends)


@pytest.mark.parametrize("pattern", ["ones", "random", "growing", "big-after-small"])
def test_segments_stay_logarithmic_and_copying_is_amortised(pattern: str) -> None:
    rng = random.Random(pattern)
    appends = {
        "ones": [1] * 5000,
        "random": [rng.randint(1, 1 << 16) for _ in range(3000)],
        "growing": list(range(1, 3000)),
        "big-after-small": [rng.choice([1, 1 << 20]) for _ in range(2000)],
    }[pattern]
    most, copied, total = _simulate(appends)
    bound = math.floor(math.log2(total)) + 1
    assert most <= bound
    assert copied <= (math.log2(total) + 1) * total


def test_no_object_of_5_gb_has_more_than_33_segments() -> None:
    assert math.floor(math.log2(5 * 1024**3)) + 1 == 33
