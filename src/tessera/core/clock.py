"""Time and identifiers."""

from __future__ import annotations

import secrets
import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_upload_id(at_ms: int) -> str:
    """32 upper-case hex digits: 12 of milliseconds, then 20 random.

    Sorting upload IDs therefore sorts uploads of one key by initiation time, which is the
    order ListMultipartUploads promises.
    """
    return f"{at_ms:012X}{secrets.token_hex(10).upper()}"
