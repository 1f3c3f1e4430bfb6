"""Whole numbers as clients write them: in query values, headers and XML elements.

Client text never reaches ``int()`` or ``str.isdigit()`` directly: ``'²'.isdigit()`` is true and
``int('²')`` fails, ``int('٣')`` is 3, and ``int()`` refuses more than 4300 digits. ``decimal``
is the one reader: ASCII digits only, and no more of them than a 64-bit value needs, so every
caller can compare the result against its own bounds and answer with its own error.
"""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"(-?)([0-9]+)")
MAX_DIGITS = 20  # 2**64 has 20 digits: a longer number is outside every range Tessera accepts


def decimal(text: str | None, *, signed: bool = False) -> int | None:
    """The integer ``text`` spells in ASCII decimal digits (after a '-' when ``signed``), or
    None when it spells none, or one of more than MAX_DIGITS significant digits."""
    match = _DECIMAL.fullmatch(text or "")
    if match is None or (match.group(1) and not signed):
        return None
    digits = match.group(2).lstrip("0") or "0"
    if len(digits) > MAX_DIGITS:
        return None
    return -int(digits) if match.group(1) else int(digits)
