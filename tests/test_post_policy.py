"""PostObject policies (tessera.api.oss.post_policy): reading them and judging forms by them."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from tessera.api.oss.errors import OssError
from tessera.api.oss.post_policy import check_policy, parse_policy

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def encoded(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def policy(*conditions: object, expiration: str = "2026-01-02T04:00:00.000Z") -> str:
    return encoded({"expiration": expiration, "conditions": list(conditions)})


def judge(text: str, now: datetime = NOW, **fields: tuple[str, ...]) -> None:
    check_policy(parse_policy(text), fields, now)


def test_every_operator() -> None:
    text = policy({"bucket": "b"}, ["eq", "$x-oss-meta-a", "1"], ["starts-with", "$key", "user/"],
                  ["in", "$content-type", ["image/png", "image/jpeg"]], ["not-in", "$cache-control", ["no-store"]],
                  ["content-length-range", 1, 10])
    parsed = parse_policy(text)
    assert parsed.length_range == (1, 10)
    assert len(parsed.conditions) == 5
    fields = {"bucket": ("b",), "x-oss-meta-a": ("1",), "key": ("user/a",), "content-type": ("image/png",),
              "cache-control": ("max-age=1",)}
    judge(text, **fields)
    for name, value in (("bucket", "c"), ("x-oss-meta-a", "2"), ("key", "admin/a"), ("content-type", "text/html"),
                        ("cache-control", "no-store")):
        with pytest.raises(OssError) as refused:
            judge(text, **{**fields, name: (value,)})
        assert (refused.value.status, refused.value.code) == (403, "AccessDenied")
        assert "Policy Condition failed" in refused.value.message


def test_field_names_are_case_blind_and_the_dollar_optional() -> None:
    judge(policy(["eq", "Success_Action_Status", "201"]), success_action_status=("201",))


def test_a_condition_holds_for_any_of_the_values_a_field_is_judged_by() -> None:
    judge(policy({"key": "user/${filename}"}), key=("user/a.png", "user/${filename}"))


def test_a_missing_field_fails_its_condition() -> None:
    with pytest.raises(OssError) as refused:
        judge(policy(["eq", "$x-oss-meta-a", "1"]))
    assert refused.value.code == "AccessDenied"


def test_expiration() -> None:
    judge(policy(["eq", "$key", "k"], expiration="2026-01-02T03:04:05Z"), key=("k",))  # up to the instant itself
    with pytest.raises(OssError) as refused:
        judge(policy(["eq", "$key", "k"]), NOW + timedelta(hours=1), key=("k",))
    assert (refused.value.status, refused.value.code, refused.value.message) == (
        403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    judge(policy(["eq", "$key", "k"], expiration="2026-01-02T12:00:00+08:00"), key=("k",))  # 04:00 UTC


@pytest.mark.parametrize("text", [
    "!!!", base64.b64encode(b"\xff\xfe").decode(), encoded([1, 2]), encoded({"conditions": [["eq", "$k", "v"]]}),
    encoded({"expiration": "2030-01-01T00:00:00Z"}), policy(), policy(123), policy({"a": "1", "b": "2"}),
    policy({"a": 1}), policy(["eq", "$key"]), policy(["like", "$key", "x"]), policy(["in", "$key", "x"]),
    policy(["eq", "$key", 5]), policy(["content-length-range", 10, 1]), policy(["content-length-range", -1, 1]),
    policy(["content-length-range", 1, "9"]), policy(["content-length-range", True, 9]),
    policy(["eq", "$key", "k"], expiration="soon"), encoded({"expiration": 5, "conditions": [{"k": "v"}]}),
    "A" * 70_000,
    base64.b64encode(b"[" * 40_000 + b"]" * 40_000).decode()[:60_000],
    encoded({"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0, 1e999]]}),
])
def test_unreadable_policies(text: str) -> None:
    with pytest.raises(OssError) as refused:
        parse_policy(text)
    assert (refused.value.status, refused.value.code) == (400, "InvalidPolicyDocument")
