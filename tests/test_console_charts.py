"""The usage charts as SVG: readable (titles, units, dates, legends), script-free, and a key
full of markup stays text."""

from __future__ import annotations

from xml.etree import ElementTree

from tessera.console import charts
from tessera.core.metering import HOUR_MS, UsageLine
from tessera.core.usage import AgeBand, ForgottenUpload, StorageOverTime, StoredBytes, UploadAges

MiB = 1024**2
HOSTILE = "<img src=x onerror=alert(1)>"
START = 1_800_000_000_000  # 2027-01-15T08:00:00Z


def _tree(svg: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def _tags(svg: bytes) -> set[str]:
    return {element.tag.rsplit("}", 1)[-1] for element in _tree(svg).iter()}


def _texts(svg: bytes) -> str:
    return " ".join(" ".join(element.itertext()) for element in _tree(svg).iter("{http://www.w3.org/2000/svg}text"))


def _upload(key: str, size: int, bucket: str = "photos") -> ForgottenUpload:
    return ForgottenUpload(bucket, f"ID-{key}", key, "root", "Standard", 2.0, 3, size, 0.01)


def test_storage_chart_names_each_kind_and_class_with_units_and_dates() -> None:
    instants = [START + i * HOUR_MS for i in range(25)]
    series = StorageOverTime(instants, [
        StoredBytes("object", "Standard", [0] * 25, [20 * MiB] * 25),
        StoredBytes("part", "IA", [0] * 25, [0] * 12 + [5 * MiB] * 13),
    ])
    svg = charts.storage_chart(series, bucket="photos")
    text = _texts(svg)
    for words in ("Storage over time: photos", "Objects · Standard", "Parts · IA", "MiB", "UTC", "15 Jan 08:00"):
        assert words in text
    assert "script" not in _tags(svg)


def test_no_chart_carries_a_script() -> None:
    drawn = [
        charts.storage_chart(StorageOverTime([START, START + HOUR_MS], [StoredBytes("object", "IA", [1, 1], [1, 1])])),
        charts.age_chart([UploadAges("b", [AgeBand("< 1 day", 1, 1, 10)] + [AgeBand(x) for x in ("a", "b", "c")])]),
        charts.top_uploads_chart([_upload("k", 10)]),
        charts.cost_chart([UsageLine("b", "Standard", "object", 1, 1, 0.5)], currency="EUR", period="today"),
    ]
    for svg in drawn:
        assert b"<script" not in svg and "script" not in _tags(svg)
        assert _tree(svg).get("width") == str(charts.WIDTH)  # an image with a size of its own


def test_a_key_with_markup_stays_text_in_every_label() -> None:
    top = charts.top_uploads_chart([_upload(HOSTILE, 5 * MiB), _upload("plain", MiB)])
    ages = charts.age_chart([UploadAges(HOSTILE, [AgeBand("< 1 day", 2, 2, MiB)] + [AgeBand(x) for x in "abc"])])
    cost = charts.cost_chart([UsageLine(HOSTILE, "Standard", "part", 1, 1, 0.25)], currency="EUR", period="today")
    for svg in (top, ages, cost):
        assert HOSTILE in " ".join(_tree(svg).itertext())  # shown as the characters it is made of...
        assert "img" not in _tags(svg)  # ...never as an element
        assert HOSTILE.encode() not in svg and b"&lt;img src=x onerror=alert(1)&gt;" in svg


def test_top_uploads_largest_first_at_the_top() -> None:
    svg = charts.top_uploads_chart([_upload("big", 30 * MiB), _upload("small", 2 * MiB), _upload("empty", 0)])
    text = _texts(svg)
    assert "photos/big (3 parts, 2 d old)" in text and "empty" not in text and "MiB" in text
    labels = [t for t in (e.text or "" for e in _tree(svg).iter("{http://www.w3.org/2000/svg}text")) if "parts" in t]
    assert labels == ["photos/small (3 parts, 2 d old)", "photos/big (3 parts, 2 d old)"]  # drawn bottom to top


def test_age_chart_labels_say_what_each_band_holds() -> None:
    bands = [AgeBand("< 1 day", 1, 1, 3 * MiB), AgeBand("1-7 days"), AgeBand("7-30 days"),
             AgeBand("> 30 days", 2, 4, 0)]
    text = _texts(charts.age_chart([UploadAges("logs", bands)]))
    assert "< 1 day: 3.0 MiB" in text and "> 30 days: 0 bytes" in text and "logs" in text


def test_cost_chart_groups_buckets_beyond_the_most_costly() -> None:
    lines = [UsageLine(f"b{i:02}", "Standard", "object", 1, 1, float(i + 1)) for i in range(charts.MOST_BUCKETS + 3)]
    text = _texts(charts.cost_chart(lines, currency="CNY", period="last 7 days"))
    assert "Storage cost, last 7 days" in text and "CNY" in text and "3 other buckets" in text
    assert "b10" in text and "b00" not in text


def test_empty_charts_say_so_in_words_without_axes() -> None:
    empties = {
        "Nothing was stored in this period": charts.storage_chart(StorageOverTime([START], [])),
        "No incomplete uploads": charts.age_chart([]),
        "No incomplete upload holds any parts": charts.top_uploads_chart([_upload("k", 0)]),
        "Nothing was billed in this period": charts.cost_chart([], currency="EUR", period="today"),
    }
    for message, svg in empties.items():
        text = _texts(svg)
        assert message in text
        assert not any(ch.isdigit() for ch in text.replace(message, ""))  # no axis labels


def test_units_are_binary_and_fit_the_largest_value() -> None:
    assert charts.unit_for(0) == ("bytes", 1)
    assert charts.unit_for(1023) == ("bytes", 1)
    assert charts.unit_for(1024) == ("KiB", 1024)
    assert charts.unit_for(5 * MiB) == ("MiB", MiB)
    assert charts.unit_for(3 * 1024**3) == ("GiB", 1024**3)


def test_cost_axis_keeps_three_digits_of_small_amounts() -> None:
    cents = _texts(charts.cost_chart([UsageLine("b", "Standard", "object", 1, 1, 0.0123)], currency="EUR",
                                     period="today"))
    assert "0.0120" in cents  # four decimals for a hundredth
    tiny = _texts(charts.cost_chart([UsageLine("b", "Standard", "object", 1, 1, 5e-10)], currency="EUR",
                                    period="today"))
    assert "5.00e-10" in tiny and "0.0000000" not in tiny
