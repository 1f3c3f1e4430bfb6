"""Time and identifiers."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_upload_id(at_ms: int) -> str:
    """32 upper-case hex digits: 12 of milliseconds, then 20 random.

    Sorting upload IDs therefore sorts uploads of one key by initiation time, which is the
    order ListMultipartUploads promises.
    """
    return f"{at_ms:012X}{secrets.token_hex(10).upper()}"


def parse_instant(text: str) -> int:
    """An ISO 8601 instant (UTC when it names no zone) as epoch milliseconds; ValueError if not one."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def format_instant(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")
