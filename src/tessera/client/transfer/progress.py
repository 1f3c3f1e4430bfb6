"""Progress of a copy: bytes, rate and ETA in a bar on stderr when it is a terminal — and nothing
at all otherwise, so logs get no carriage returns. It also holds a copy to ``--max-speed``: the
workers that report bytes wait until those bytes are paid for at that rate — paid from the later
of the last payment and now, so a slow moment (a slow server, a busy machine) is never made up
for afterwards by a burst above the limit."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    """Counts bytes across every file of a copy; workers call ``advance`` from their threads."""

    def __init__(self, total_bytes: int, total_files: int, *, bar_to: TextIO | None,
                 max_rate: int | None = None) -> None:
        self.total_files = total_files
        self.max_rate = max_rate  # bytes per second, over the whole copy
        self._paid_until = time.monotonic()  # the bytes reported so far may go out until then
        self.files_done = 0
        self.transferred = 0
        self._lock = threading.Lock()
        self._bar = None
        if bar_to is not None:
            self._bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, file=bar_to,
                             dynamic_ncols=True, mininterval=0.2, desc=self._description(), leave=True)

    def _description(self) -> str:
        return f"{self.files_done}/{self.total_files} files"

    def advance(self, size: int, *, transferred: bool = True) -> None:
        """``size`` more bytes are at the destination; ``transferred`` is false for bytes an
        earlier, interrupted run copied (they move the bar but not the rate in the summary)."""
        with self._lock:
            if transferred:
                self.transferred += size
            if self._bar is not None:
                self._bar.update(size)
            now = time.monotonic()
            due = 0.0
            if self.max_rate and transferred:
                self._paid_until = due = max(self._paid_until, now) + size / self.max_rate
        wait = due - now
        if wait > 0:
            time.sleep(wait)

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            if self._bar is not None:
                self._bar.set_description_str(self._description(), refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
