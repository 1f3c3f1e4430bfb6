"""The policy of a PostObject form: a base64 JSON document with an ``expiration`` and the
``conditions`` the form's fields must meet (docs/compatibility.md, PostObject).

A policy that cannot be read is ``InvalidPolicyDocument`` (400); a form it does not allow is
``AccessDenied`` (403) naming the condition that failed, as OSS answers.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from tessera.api.oss.errors import OssError

MAX_POLICY_BYTES = 64 * 1024
OPERATORS = ("eq", "starts-with", "in", "not-in")


@dataclass(frozen=True)
class Condition:
    operator: str  # one of OPERATORS
    field: str  # the form field, lower-cased, without the '$'
    value: str | tuple[str, ...]
    text: str  # as the policy wrote it, for the refusal's message

    def holds(self, candidates: tuple[str, ...]) -> bool:
        if self.operator == "eq":
            return self.value in candidates
        if self.operator == "starts-with":
            return any(c.startswith(self.value) for c in candidates)  # type: ignore[arg-type]
        if self.operator == "in":
            return any(c in self.value for c in candidates)
        return all(c not in self.value for c in candidates)  # not-in


@dataclass(frozen=True)
class Policy:
    expiration: datetime
    conditions: tuple[Condition, ...]
    length_range: tuple[int, int] | None  # content-length-range: inclusive bounds of the file's size


def invalid(message: str) -> OssError:
    return OssError(400, "InvalidPolicyDocument", f"Invalid Policy: {message}")


def denied(message: str) -> OssError:
    return OssError(403, "AccessDenied", f"Invalid according to Policy: {message}")


def parse_policy(encoded: str) -> Policy:
    if len(encoded) > MAX_POLICY_BYTES:
        raise invalid(f"the policy is longer than {MAX_POLICY_BYTES} characters.")
    try:
        document = json.loads(base64.b64decode(encoded.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise invalid(f"Invalid JSON or base64: {error}.") from None
    except RecursionError:
        raise invalid("Invalid JSON: nested too deeply.") from None
    if not isinstance(document, dict):
        raise invalid("the policy must be a JSON object.")
    if "expiration" not in document:
        raise invalid("Policy missing expiration.")
    if "conditions" not in document:
        raise invalid("Policy missing conditions.")
    conditions = document["conditions"]
    if not isinstance(conditions, list) or not conditions:
        raise invalid("conditions must be a non-empty list.")
    parsed: list[Condition] = []
    length_range = None
    for item in conditions:
        if isinstance(item, list) and item and item[0] == "content-length-range":
            length_range = _length_range(item)
        else:
            parsed.append(_condition(item))
    return Policy(_expiration(document["expiration"]), tuple(parsed), length_range)


def _expiration(value: Any) -> datetime:
    if not isinstance(value, str):
        raise invalid("expiration must be an ISO 8601 date-time such as 2026-01-01T00:00:00.000Z.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise invalid(f"expiration is not an ISO 8601 date-time: {value!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _length_range(item: list[Any]) -> tuple[int, int]:
    bounds = item[1:]
    if (len(bounds) != 2 or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in bounds)
            or bounds[0] > bounds[1]):
        raise invalid(f"content-length-range needs two integers, min <= max: {json.dumps(item)}.")
    return bounds[0], bounds[1]


def _condition(item: Any) -> Condition:
    text = json.dumps(item, ensure_ascii=False)
    if isinstance(item, dict):
        if len(item) != 1:
            raise invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
        (name, value), = item.items()
        if not isinstance(value, str):
            raise invalid(f"the value of a Simple-Condition must be a string: {text}.")
        return Condition("eq", _field(name), value, text)
    if not isinstance(item, list):
        raise invalid(f"a condition must be a JSON object or a list: {text}.")
    if len(item) != 3 or not isinstance(item[0], str) or not isinstance(item[1], str):
        raise invalid(f"a condition list must be [operator, field, value]: {text}.")
    operator, name, value = item[0].lower(), item[1], item[2]
    if operator not in OPERATORS:
        raise invalid(f"unknown condition operator {item[0]!r}.")
    if operator in ("in", "not-in"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"{operator} needs a list of strings: {text}.")
        return Condition(operator, _field(name), tuple(value), text)
    if not isinstance(value, str):
        raise invalid(f"{operator} needs a string value: {text}.")
    return Condition(operator, _field(name), value, text)


def _field(name: str) -> str:
    return name.removeprefix("$").lower()


def check_policy(policy: Policy, fields: Mapping[str, tuple[str, ...]], now: datetime) -> None:
    """AccessDenied unless the policy is still valid and every condition holds for ``fields``:
    each (lower-cased) field name mapped to the values it may be judged by — the key as stored
    and as the form wrote it (before ``${filename}``), the bucket's name for ``bucket``."""
    if now > policy.expiration:
        raise denied("Policy expired.")
    for condition in policy.conditions:
        candidates = fields.get(condition.field)
        if candidates is None or not condition.holds(candidates):
            raise denied(f"Policy Condition failed: {condition.text}")
