"""The usage page's period chooser: the last 24 hours, 7 days or 30 days, or a custom window.

A custom window comes from the page's date inputs (``2026-11-01``: whole UTC days, ``to``
included) or from the JSON API as ISO 8601 instants (``2026-11-01T06:00:00Z``: ``to``
excluded, as in ``tessera admin usage``). Time after now is not billed yet, so the usage
functions stop there; a period that ends in the future is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from tessera.core.clock import parse_instant
from tessera.core.metering import DAY_MS

PRESETS: dict[str, tuple[str, int]] = {
    "24h": ("last 24 hours", DAY_MS),
    "7d": ("last 7 days", 7 * DAY_MS),
    "30d": ("last 30 days", 30 * DAY_MS),
}
CUSTOM = "custom"
DEFAULT = "24h"
LAST_MS = parse_instant("9999-12-31T23:59:59.999Z")


class PeriodError(ValueError):
    """A period that cannot be used; ``field`` names the query parameter at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    choice: str  # a key of PRESETS, or CUSTOM
    start_ms: int
    end_ms: int  # excluded
    label: str  # for titles: "last 7 days", "2026-11-01 to 2026-11-30"

    @property
    def first_day(self) -> str:
        """The date input's value for the start (YYYY-MM-DD, UTC)."""
        return _day(self.start_ms)

    @property
    def last_day(self) -> str:
        """The date input's value for the end: the last day the period touches."""
        return _day(max(self.start_ms, self.end_ms - 1))


def choose_period(query: Mapping[str, str], now_ms: int) -> Period:
    """The period a query asks for: ``period=24h|7d|30d``, or ``from``/``to`` (with or without
    ``period=custom``); the last 24 hours when it names none."""
    choice = query.get("period") or (CUSTOM if query.get("from") or query.get("to") else DEFAULT)
    if choice in PRESETS:
        label, length_ms = PRESETS[choice]
        return Period(choice, now_ms - length_ms, now_ms, label)
    if choice != CUSTOM:
        raise PeriodError(f"The period must be one of {', '.join([*PRESETS, CUSTOM])}, not {choice!r}.", "period")
    start_text, end_text = query.get("from", "").strip(), query.get("to", "").strip()
    if not start_text or not end_text:
        raise PeriodError("A custom period needs a start (from) and an end (to).", "from" if not start_text else "to")
    start_ms, end_ms = _instant(start_text, "from"), _instant(end_text, "to")
    if _is_date(end_text):
        end_ms += DAY_MS  # the last day is included
    end_ms = min(end_ms, LAST_MS)  # the calendar's end: instants past it cannot be written back
    if end_ms <= start_ms:
        raise PeriodError("The period's end (to) must be later than its start (from).", "to")
    label = f"{start_text} to {end_text}" if _is_date(start_text) and _is_date(end_text) else \
        f"{start_text} – {end_text}"
    return Period(CUSTOM, start_ms, end_ms, label)


def _instant(text: str, field: str) -> int:
    try:
        return parse_instant(text)
    except ValueError:
        raise PeriodError(f"The period's {'start' if field == 'from' else 'end'} ({field}) must be a date "
                          f"(2026-11-01) or an ISO 8601 instant, not {text!r}.",
                          field) from None


def _is_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _day(ms: int) -> str:
    day = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return f"{day.year:04}-{day.month:02}-{day.day:02}"  # %Y writes the year 1 as "1"
