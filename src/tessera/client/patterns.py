"""``--include`` / ``--exclude``: shell-style patterns on the last segment of a key, as ossutil
applies them.

A pattern (``*``, ``?``, ``[seq]``, ``[!seq]``) is matched against the key's base name — what
follows its last ``/`` — so it cannot contain ``/``. Rules apply in the order given: the last rule
whose pattern matches decides (include keeps, exclude drops); a name no rule matches is kept,
unless the first rule is an ``--include`` (then only what some include matches is kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    include: bool
    pattern: str


@dataclass(frozen=True)
class NameFilter:
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        for rule in self.rules:
            if "/" in rule.pattern:
                raise PatternError(f"pattern {rule.pattern!r} has a '/': patterns match the last segment of a "
                                   f"key (the name after its last '/'), not directories")

    def __bool__(self) -> bool:
        return bool(self.rules)

    def keeps(self, key: str) -> bool:
        name = key.rpartition("/")[2]
        for rule in reversed(self.rules):
            if fnmatchcase(name, rule.pattern):
                return rule.include
        return not (self.rules and self.rules[0].include)
