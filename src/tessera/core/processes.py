"""Whether a process on this machine still runs — to tell a crashed holder of something (a
lease, a temporary file, a metrics directory) from a live one."""

from __future__ import annotations

import os


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True
