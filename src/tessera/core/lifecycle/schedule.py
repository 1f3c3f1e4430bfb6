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

    def next_run_ms(self, now_ms: int, *, last_scheduled_ms: int | None) -> int | None:
        """When the server will next run the rules, seen at ``now_ms`` (Unix ms).

        Daily: the next ``daily_at``. At an interval, the server waits that long after each
        scheduled run ends (and after it starts), so the next run is an interval after
        ``last_scheduled_ms``, when the last scheduled run finished — never before ``now_ms``,
        and None (unknown) when no scheduled run has finished yet: the log does not hold when
        the server started.
        """
        if self.every_seconds is not None:
            if last_scheduled_ms is None:
                return None
            return max(last_scheduled_ms + round(self.every_seconds * 1000), now_ms)
        return now_ms + round(self.seconds_until_next(now_ms / 1000) * 1000)
