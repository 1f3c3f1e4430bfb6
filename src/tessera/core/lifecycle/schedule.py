"""When the server runs lifecycle rules: once a day at a UTC time (like OSS), or every N seconds."""

from __future__ import annotations

from dataclasses import dataclass

DAY_SECONDS = 86_400


@dataclass(frozen=True)
class LifecycleSchedule:
    daily_at: tuple[int, int] = (0, 0)  # (hour, minute) UTC
    every_seconds: float | None = None

    def seconds_until_next(self, now: float) -> float:
        """Seconds from the Unix time ``now`` until the next run."""
        if self.every_seconds is not None:
            return self.every_seconds
        hour, minute = self.daily_at
        into_day = now % DAY_SECONDS
        wait = (hour * 3600 + minute * 60) - into_day
        return wait if wait > 0 else wait + DAY_SECONDS
