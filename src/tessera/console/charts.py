"""The usage page's charts, drawn by pygal as SVG documents (docs/console.md, Usage).

The page shows each chart as an image (``<img src=".../charts/<name>.svg?...">``): a browser
runs nothing inside an image, whatever a key contains. pygal's tooltips are a script, so none is
asked for (``js=()``), and the one script pygal writes anyway (its configuration, for those
tooltips) is taken out of the tree before it is serialised. Labels reach the SVG as XML text, so
a key such as ``<img src=x>`` stays text.

A chart with nothing to draw says so in words rather than showing an empty axis.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Iterable

import pygal
from pygal.style import Style

from tessera.console.templates import age
from tessera.core.metering import DAY_MS, EARLY_DELETION, OBJECT, PART, UsageLine
from tessera.core.models import STORAGE_CLASSES
from tessera.core.usage import ForgottenUpload, StorageOverTime, UploadAges

SVG_MEDIA_TYPE = "image/svg+xml"
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
WIDTH, HEIGHT = 960, 420
MOST_BUCKETS = 8  # more get one bar or series together ("other buckets"): a legend must stay readable
_KIND_NAMES = {OBJECT: "Objects", PART: "Parts", EARLY_DELETION: "Early deletion"}
_UNITS = (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024), ("bytes", 1))

# Objects in blues, parts of incomplete uploads in oranges, early-deletion charges in greys:
# the two kinds stay apart at a glance whatever the storage classes.
_SHADES = {
    OBJECT: ("#1f5fa8", "#4a8fd6", "#82b6ea", "#b4d3f3", "#dce9f8"),
    PART: ("#c0560f", "#e8802f", "#f2a463", "#f7c697", "#fbe2c9"),
    EARLY_DELETION: ("#555555", "#7a7a7a", "#9e9e9e", "#bdbdbd", "#dddddd"),
}
_BUCKET_COLOURS = ("#1f5fa8", "#c0560f", "#2e8b57", "#8e44ad", "#b8860b", "#c0392b", "#16a085", "#7f8c8d",
                   "#34495e")


def unit_for(largest: float) -> tuple[str, int]:
    """The binary unit (KiB = 1024 bytes, and so on) that shows ``largest`` bytes as 1 to 1023."""
    for name, size in _UNITS:
        if largest >= size:
            return name, size
    return "bytes", 1


def series_name(kind: str, storage_class: str) -> str:
    """"Objects · Standard", "Parts · IA": the legend of a kind × storage class."""
    return f"{_KIND_NAMES.get(kind, kind)} · {storage_class}"


def storage_chart(series: StorageOverTime, *, bucket: str | None = None) -> bytes:
    """Stored bytes (real size) at each instant, stacked: objects, then the parts of incomplete
    uploads, one band per storage class."""
    if not series.lines:
        return _nothing(_scoped("Storage over time", bucket), "Nothing was stored in this period")
    unit, size = unit_for(max((sum(values) for values in zip(*(line.bytes for line in series.lines))), default=0))
    chart = _chart(pygal.StackedLine, title=_scoped("Storage over time", bucket),
                   y_title=unit, x_title="UTC",
                   colours=_class_colours((line.kind, line.storage_class) for line in series.lines),
                   fill=True, show_dots=False, include_x_axis=True, x_label_rotation=0, show_minor_x_labels=False,
                   x_labels_major_count=min(7, len(series.instants)), truncate_label=-1)
    span_ms = series.instants[-1] - series.instants[0]
    chart.x_labels = [_instant_label(ms, span_ms) for ms in series.instants]
    for line in series.lines:
        chart.add(series_name(line.kind, line.storage_class), [round(b / size, 3) for b in line.bytes])
    return _render(chart)


def age_chart(histogram: list[UploadAges], *, bucket: str | None = None) -> bytes:
    """Incomplete uploads per age band, stacked per bucket; each band's label says how much
    part storage its uploads hold."""
    if not any(band.uploads for ages in histogram for band in ages.bands):
        return _nothing(_scoped("Incomplete uploads by age", bucket), "No incomplete uploads")
    chart = _chart(pygal.StackedBar, title=_scoped("Incomplete uploads by age", bucket), y_title="uploads",
                   x_title="age since initiated", colours=_BUCKET_COLOURS, truncate_label=-1)
    labels = [band.label for band in histogram[0].bands]
    held = [sum(ages.bands[i].bytes for ages in histogram) for i in range(len(labels))]
    chart.x_labels = [f"{label}: {_human(b)}" for label, b in zip(labels, held)]
    ranked = sorted(histogram, key=lambda ages: (-sum(b.bytes for b in ages.bands), ages.bucket))
    for ages in ranked[:MOST_BUCKETS]:
        chart.add(ages.bucket, [band.uploads for band in ages.bands])
    if rest := ranked[MOST_BUCKETS:]:
        chart.add(f"{len(rest)} other buckets", [sum(a.bands[i].uploads for a in rest) for i in range(len(labels))])
    most = max(sum(ages.bands[i].uploads for ages in histogram) for i in range(len(labels)))
    step = max(1, math.ceil(most / 8))  # whole uploads on the axis, eight lines at most
    chart.config.y_labels = list(range(0, most + step, step))
    chart.config.value_formatter = lambda value: f"{value:.0f}"
    return _render(chart)


def top_uploads_chart(uploads: list[ForgottenUpload], *, limit: int = 10, bucket: str | None = None) -> bytes:
    """The incomplete uploads holding the most part storage, largest at the top."""
    largest = [u for u in uploads if u.bytes][:limit]
    if not largest:
        return _nothing(_scoped("Uploads holding the most part storage", bucket),
                        "No incomplete upload holds any parts")
    unit, size = unit_for(max(u.bytes for u in largest))
    chart = _chart(pygal.HorizontalBar, title=_scoped("Uploads holding the most part storage", bucket),
                   x_title=unit, colours=_SHADES[PART], show_legend=False, truncate_label=48,
                   height=max(HEIGHT, 120 + 34 * len(largest)))
    ordered = list(reversed(largest))  # pygal draws the first bar at the bottom
    chart.x_labels = [f"{u.key if bucket else u.bucket + '/' + u.key} ({u.parts} part{'' if u.parts == 1 else 's'}, "
                      f"{age(u.age_days * DAY_MS)} old)" for u in ordered]  # the bucket is in the title when there is one
    chart.add("Part storage", [round(u.bytes / size, 3) for u in ordered])
    return _render(chart)


def cost_chart(lines: list[UsageLine], *, currency: str, period: str, bucket: str | None = None) -> bytes:
    """The cost of a period per bucket, stacked per kind × storage class."""
    costly = [line for line in lines if line.cost > 0]
    if not costly:
        return _nothing(_scoped(f"Storage cost, {period}", bucket), "Nothing was billed in this period")
    chart = _chart(pygal.StackedBar, title=_scoped(f"Storage cost, {period}", bucket), y_title=currency,
                   colours=_class_colours(sorted({(x.kind, x.storage_class) for x in costly}, key=_line_order)),
                   truncate_label=24)
    per_bucket: dict[str, float] = {}
    for line in costly:
        per_bucket[line.bucket] = per_bucket.get(line.bucket, 0.0) + line.cost
    ranked = sorted(per_bucket, key=lambda name: (-per_bucket[name], name))
    shown, rest = ranked[:MOST_BUCKETS], ranked[MOST_BUCKETS:]
    chart.x_labels = shown + ([f"{len(rest)} other buckets"] if rest else [])
    for kind, storage_class in sorted({(x.kind, x.storage_class) for x in costly}, key=_line_order):
        cost = {name: 0.0 for name in ranked}
        for line in costly:
            if (line.kind, line.storage_class) == (kind, storage_class):
                cost[line.bucket] += line.cost
        values = [cost[name] for name in shown] + ([sum(cost[name] for name in rest)] if rest else [])
        chart.add(series_name(kind, storage_class), values)
    # Three significant digits of the largest bar, two decimals at least: small amounts keep
    # theirs; below a millionth, powers of ten read better than a row of zeros.
    places = max(2, 2 - math.floor(math.log10(max(per_bucket.values()))))
    chart.config.value_formatter = (lambda value: f"{value:.{places}f}") if places <= 8 else \
        (lambda value: f"{value:.2e}")
    return _render(chart)


def _nothing(title: str, message: str) -> bytes:
    """A chart without data: its title and a sentence saying what is missing, no axes."""
    chart = _chart(pygal.Bar, title=title, colours=(), height=HEIGHT // 2, no_data_text=message,
                   show_x_guides=False, show_y_guides=False, show_x_labels=False, show_y_labels=False,
                   show_legend=False)
    return _render(chart)


def _chart(kind: type, *, title: str, colours: Iterable[str], height: int = HEIGHT, **options: Any) -> Any:
    style = Style(background="white", plot_background="white", foreground="#333333", foreground_strong="#111111",
                  foreground_subtle="#666666", font_family="system-ui, 'DejaVu Sans', Arial, sans-serif",
                  title_font_size=18, label_font_size=12, major_label_font_size=12, legend_font_size=13,
                  no_data_font_size=22, opacity=".85", opacity_hover=".85", transition="0ms",
                  guide_stroke_color="#d0d0d0", major_guide_stroke_color="#b0b0b0",
                  colors=tuple(colours) or _BUCKET_COLOURS)
    return kind(style=style, title=title, width=WIDTH, height=height, explicit_size=True,
                js=(), disable_xml_declaration=True, legend_at_bottom=True, margin=16,
                margin_right=56, **options)  # room for the last axis label


def _render(chart: Any) -> bytes:
    chart.add_xml_filter(_without_scripts)
    return str(chart.render(is_unicode=True)).encode("utf-8")


def _without_scripts(root: Any) -> Any:
    """Take out what pygal writes for its tooltip script even when no script is loaded."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _class_colours(lines: Iterable[tuple[str, str]]) -> list[str]:
    used = {OBJECT: 0, PART: 0, EARLY_DELETION: 0}
    colours = []
    for kind, _ in lines:
        shades = _SHADES.get(kind, _SHADES[EARLY_DELETION])
        colours.append(shades[used.get(kind, 0) % len(shades)])
        used[kind] = used.get(kind, 0) + 1
    return colours


def _line_order(line: tuple[str, str]) -> tuple[int, int, str]:
    kind, storage_class = line
    kinds = (OBJECT, PART, EARLY_DELETION)
    return (kinds.index(kind) if kind in kinds else len(kinds),
            STORAGE_CLASSES.index(storage_class) if storage_class in STORAGE_CLASSES else len(STORAGE_CLASSES),
            storage_class)


def _scoped(title: str, bucket: str | None) -> str:
    return f"{title}: {bucket}" if bucket else title


def _instant_label(ms: int, span_ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    if span_ms <= 2 * DAY_MS:
        return moment.strftime("%d %b %H:%M")
    return moment.strftime("%d %b %Y")


def _human(size: int) -> str:
    unit, scale = unit_for(size)
    return f"{size} bytes" if scale == 1 else f"{size / scale:.1f} {unit}"


