"""Lifecycle rules in words, for the Lifecycle page's list: what each action does and to what."""

from __future__ import annotations

from tessera.console.lifecycle_json import rule_to_json
from tessera.core.lifecycle.rules import Rule


def part_cleanup_first(rules: list[Rule]) -> list[Rule]:
    """Rules that abort incomplete uploads first (the page's reason to exist), each group in
    the saved order."""
    return sorted(rules, key=lambda r: r.abort_multipart_upload is None)


def describe(rule: Rule) -> list[str]:
    """One line per action: "Abort incomplete uploads 7 days after their last part"."""
    data = rule_to_json(rule)
    lines = []
    abort = data["abort_multipart_upload"]
    if abort:
        lines.append("Abort incomplete uploads " + (f"{_days(abort['days'])} after their last part" if abort["days"]
                                                    else f"last updated before {abort['created_before']}"))
    for t in data["transitions"]:
        lines.append(f"Move objects to {t['storage_class']} " + _when(t))
    expiration = data["expiration"]
    if expiration:
        if expiration["date"]:
            lines.append(f"Expire objects on {expiration['date']}")
        elif expiration["expired_object_delete_marker"] is not None:
            lines.append("Remove expired delete markers (nothing to do: no versioning)")
        else:
            lines.append("Expire objects " + _when(expiration))
    if data["noncurrent_expiration"] or data["noncurrent_transitions"]:
        lines.append("Noncurrent-version actions (nothing to do: no versioning)")
    return lines


def conditions(rule: Rule) -> list[str]:
    """What the rule selects beyond its prefix: tags, excluded prefixes, sizes."""
    shown = [f"tag {t.key}={t.value}" for t in rule.tags]
    if rule.filter is not None:
        f = rule.filter
        shown += [f"not {x.prefix}" + (f" with tag {x.tag.key}={x.tag.value}" if x.tag else "") for x in f.exclusions]
        if f.size_greater_than is not None:
            shown.append(f"larger than {f.size_greater_than} B")
        if f.size_less_than is not None:
            shown.append(f"smaller than {f.size_less_than} B")
    return shown


def _when(action: dict) -> str:
    if action["days"]:
        return f"{_days(action['days'])} after last modified"
    return f"last modified before {action['created_before']}"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"
