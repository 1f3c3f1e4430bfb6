"""Lifecycle outcomes as text for ``tessera admin lifecycle run`` and ``log``: a summary line per
rule and action, then the uploads and objects it names (key, upload ID, age, bytes, parts)."""

from __future__ import annotations

from typing import Iterable

from tessera.core.lifecycle.engine import ActedOn, Outcome

UNKNOWN = "?"  # age or size of an item from a run logged before items were named


def outcome_lines(outcomes: Iterable[Outcome]) -> list[str]:
    """The summary table, then each outcome that acted on anything with its named items."""
    outcomes = list(outcomes)
    lines = [f"  {'bucket':<24} {'rule':<24} {'action':<24} {'matched':>8} {'parts':>8} {'bytes':>14}"]
    lines += [f"  {o.bucket:<24} {shown(o.rule_id) or '-':<24} {o.action:<24} {o.matched:>8} {o.parts:>8} "
              f"{o.bytes:>14}" for o in outcomes]
    for o in outcomes:
        if o.matched:
            lines += named_lines(o)
    return lines


def named_lines(o: Outcome) -> list[str]:
    uploads = o.action == "AbortMultipartUpload"
    what = "upload(s)" if uploads else "object(s)"
    rule = f"rule {shown(o.rule_id)}" if o.rule_id else "no rule"
    lines = [f"bucket {o.bucket}, {rule}, {o.action}: {o.matched} {what}"
             + (f", {o.parts} part(s)" if uploads else "") + f", {o.bytes} bytes"]
    if o.items:
        id_width = max(len("upload ID"), *(len(a.upload_id or "") for a in o.items))
        head = f"  {'age':>10} {'bytes':>14}"
        head += f" {'parts':>6} {'upload ID':<{id_width}}" if uploads else ""
        lines.append(f"{head} key")
        lines += [_item_line(a, uploads, id_width) for a in o.items]
    if o.truncated:
        lines.append(f"  … and {o.matched - len(o.items)} more")
    return lines


def _item_line(a: ActedOn, uploads: bool, id_width: int) -> str:
    age = UNKNOWN if a.age_ms is None else age_text(a.age_ms)
    size = UNKNOWN if a.bytes is None else str(a.bytes)
    line = f"  {age:>10} {size:>14}"
    if uploads:
        line += f" {UNKNOWN if a.parts is None else a.parts:>6} {a.upload_id or '':<{id_width}}"
    return f"{line} {shown(a.key)}"


def age_text(ms: int) -> str:
    """A duration in its two largest units: ``3 d 4 h``, ``5 h 2 min``, ``42 s``."""
    seconds = max(ms, 0) // 1000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def shown(text: str) -> str:
    """User text (keys, rule IDs) as it can be printed on one line: quoted when it holds
    characters that are not printable (a newline or escape sequence in a key)."""
    return text if text.isprintable() else repr(text)
