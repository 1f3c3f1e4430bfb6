"""Time and identifiers."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


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
    return epoch_ms(moment)


def epoch_ms(moment: datetime) -> int:
    """An aware instant as epoch milliseconds (rounded down); ValueError when it falls outside
    the calendar once in UTC (``0001-01-01T00:00:00+01:00`` is in year 0), where no timestamp
    could be formatted back."""
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is outside the years 1 to 9999 in UTC") from None
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def format_instant(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")  # exact, unlike a float
