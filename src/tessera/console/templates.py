"""The console's Jinja2 environment: templates from the package, HTML always escaped, and the
filters pages share."""

from __future__ import annotations

from datetime import datetime, timezone

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

STATIC_PREFIX = "/-/console/static/"
UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(size: int | float | None) -> str:
    if size is None:
        return "—"
    value, unit = float(size), 0
    while abs(value) >= 1024 and unit < len(UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return f"{int(value)} B" if unit == 0 else f"{value:.1f} {UNITS[unit]}"


def instant(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(ms: int | float | None) -> str:
    """A duration, two units at most: "3 d 4 h", "5 min 2 s"."""
    if ms is None:
        return "—"
    seconds = max(0, int(ms // 1000))
    parts = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    shown = []
    for unit, size in parts:
        if seconds >= size or (unit == "s" and not shown):
            shown.append(f"{seconds // size} {unit}")
            seconds %= size
        if len(shown) == 2:
            break
    return " ".join(shown)


def money(amount: float | None, currency: str = "") -> str:
    if amount is None:
        return "—"
    return f"{amount:.4f} {currency}".strip()


def static(name: str) -> str:
    return STATIC_PREFIX + name


def environment() -> Environment:
    env = Environment(loader=PackageLoader("tessera.console", "templates"),
                      autoescape=select_autoescape(["html"], default_for_string=True, default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(bytes=human_bytes, instant=instant, age=age, money=money)
    env.globals.update(static=static)
    return env
