"""Sizes as users write them, and how files are cut into parts."""

from __future__ import annotations

import pytest

from tessera.client.transfer.sizes import GiB, KiB, MAX_PARTS, MiB, Span, choose_part_size, parse_size, split


@pytest.mark.parametrize("text, size", [
    ("1048576", MiB), ("512K", 512 * KiB), ("100M", 100 * MiB), ("64MiB", 64 * MiB), ("64mb", 64 * MiB),
    ("1.5GiB", 3 * GiB // 2), ("2 G", 2 * GiB), ("0", 0),
])
def test_sizes_are_powers_of_1024_whatever_the_spelling(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "-1M", "12 parsecs", "1.2.3M"])
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_spans_cover_the_file_with_a_short_last_one() -> None:
    spans = split(10 * MiB + 5, 4 * MiB)
    assert spans == [Span(1, 0, 4 * MiB), Span(2, 4 * MiB, 4 * MiB), Span(3, 8 * MiB, 2 * MiB + 5)]
    assert spans[-1].end == 10 * MiB + 5
    assert split(8 * MiB, 4 * MiB)[-1] == Span(2, 4 * MiB, 4 * MiB)
    assert split(0, MiB) == []


def test_the_default_part_size_grows_with_the_file_within_bounds() -> None:
    assert choose_part_size(100 * MiB) == 8 * MiB
    assert choose_part_size(512 * MiB) == 16 * MiB
    assert choose_part_size(1 * GiB) == 32 * MiB
    assert choose_part_size(1 * GiB + 32 * KiB) == 33 * MiB  # whole MiBs
    assert choose_part_size(200 * GiB) == 64 * MiB
    huge = 1024 * GiB
    part_size = choose_part_size(huge)
    assert part_size > 64 * MiB and part_size % MiB == 0 and len(split(huge, part_size)) <= MAX_PARTS
    assert choose_part_size(huge, 3 * MiB) == 3 * MiB  # what the user asked for, checked by the command
