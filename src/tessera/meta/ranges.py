"""Key-range helpers shared by the listing queries."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Bound:
    """Where a listing batch starts: after (or at, when inclusive) ``key``/``upload_id``."""

    key: str
    upload_id: str | None = None
    inclusive: bool = False


def successor(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix`` (None: no bound).

    UTF-8 byte order is code-point order, so bumping the last code point is enough.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot appear in a key
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def key_window(column: sa.ColumnElement, prefix: str) -> list[sa.ColumnElement]:
    """Conditions keeping ``column`` inside ``prefix``, as an index range."""
    conditions: list[sa.ColumnElement] = []
    if prefix:
        conditions.append(column >= prefix)
        upper = successor(prefix)
        if upper is not None:
            conditions.append(column < upper)
    return conditions


def after(column: sa.ColumnElement, bound: Bound) -> sa.ColumnElement:
    return column >= bound.key if bound.inclusive else column > bound.key
