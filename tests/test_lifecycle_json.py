"""The console's rule JSON: every valid rule survives a trip through JSON text unchanged, and
what OSS would refuse is refused with the field named."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tessera.console.lifecycle_json import (
    RuleJsonError,
    configuration_from_json,
    configuration_to_json,
    rule_from_json,
    rule_to_json,
    validated,
)
from tessera.core.errors import InvalidArgument
from tessera.core.lifecycle.rules import (
    DAY_MS,
    MAX_DAYS,
    TRANSITION_CLASSES,
    AbortMultipartUpload,
    Configuration,
    Exclusion,
    Expiration,
    Filter,
    NoncurrentExpiration,
    NoncurrentTransition,
    Rule,
    Tag,
    Transition,
    normalize,
)

JAN_1_2026 = 20454 * DAY_MS
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
days = st.integers(1, MAX_DAYS)
dates = st.integers(-719_162, 2_932_896).map(lambda d: d * DAY_MS)  # 0001-01-01 .. 9999-12-31
flags = st.none() | st.booleans()
tags = st.builds(Tag, text.filter(bool), text)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    prefix = draw(text)
    abort = draw(st.none() | st.builds(AbortMultipartUpload, days=days) | st.builds(
        AbortMultipartUpload, created_before_ms=dates))
    expiration = draw(st.none() | st.builds(Expiration, days=days) | st.builds(Expiration, created_before_ms=dates)
                      | st.builds(Expiration, date_ms=dates) | st.builds(Expiration, expired_object_delete_marker=flags))
    classes = draw(st.lists(st.sampled_from(TRANSITION_CLASSES), unique=True, max_size=3))
    ages = sorted(draw(st.lists(days, unique=True, min_size=len(classes), max_size=len(classes))))
    transitions = tuple(Transition(c, days=d, is_access_time=draw(flags), return_to_std_when_visit=draw(flags),
                                   allow_small_file=draw(flags))
                        for c, d in zip(sorted(classes, key=TRANSITION_CLASSES.index), ages))
    exclusions = tuple(Exclusion(prefix + draw(text.filter(bool)), None if abort else draw(st.none() | tags))
                       for _ in range(draw(st.integers(0, 2))))
    low = draw(st.none() | st.integers(0, 1000))
    size_filter = draw(st.none() | st.just(Filter(low, None if low is None else low + draw(st.integers(1, 10)),
                                                  exclusions)))
    return Rule(
        id=draw(text.filter(bool)), prefix=prefix, enabled=draw(st.booleans()), expiration=expiration,
        abort_multipart_upload=abort, transitions=transitions,
        tags=() if abort else tuple(draw(st.lists(tags, max_size=2))), filter=size_filter,
        noncurrent_expiration=draw(st.none() | st.builds(NoncurrentExpiration, days)),
        noncurrent_transitions=tuple(draw(st.lists(st.builds(NoncurrentTransition, days,
                                                             st.sampled_from(TRANSITION_CLASSES)), max_size=1))),
        atime_base=draw(st.none() | st.integers(0, 2**40)),
    )


def valid(rule: Rule) -> bool:
    try:
        normalize([rule])
    except InvalidArgument:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(rules())
def test_every_valid_rule_survives_json_unchanged(rule: Rule) -> None:
    assume(valid(rule))
    sent = json.loads(json.dumps(configuration_to_json(Configuration((rule,)))))
    assert configuration_from_json(sent) == Configuration((rule,))


def test_the_wire_form_uses_the_models_names_and_plain_dates() -> None:
    rule = Rule("parts", prefix="tmp/", abort_multipart_upload=AbortMultipartUpload(created_before_ms=JAN_1_2026),
                transitions=(Transition("IA", days=30),))
    data = rule_to_json(rule)
    assert data["abort_multipart_upload"] == {"days": None, "created_before": "2026-01-01"}
    assert data["transitions"][0]["storage_class"] == "IA" and data["enabled"] is True
    assert rule_from_json({"id": "parts", "prefix": "tmp/", "abort_multipart_upload": {"created_before": "2026-01-01"},
                           "transitions": [{"storage_class": "IA", "days": 30}]}) == rule


def test_a_minimal_rule_needs_only_an_action() -> None:
    [rule] = configuration_from_json([{"abort_multipart_upload": {"days": 3}}]).rules
    assert rule.id.startswith("rule-") and rule.enabled and rule.prefix == ""


@pytest.mark.parametrize("rule, field, says", [
    ({"id": "r", "abort_multipart_upload": {"days": 0}}, "rules[0].abort_multipart_upload.days", "from 1 to"),
    ({"id": "r", "abort_multipart_upload": {"days": "3"}}, "rules[0].abort_multipart_upload.days", "whole number"),
    ({"id": "r", "abort_multipart_upload": {"days": True}}, "rules[0].abort_multipart_upload.days", "whole number"),
    ({"id": "r", "abort_multipart_upload": {"days": 3.5}}, "rules[0].abort_multipart_upload.days", "whole number"),
    ({"id": "r", "abort_multipart_upload": {"days": 1, "created_before": "2026-01-01"}},
     "rules[0].abort_multipart_upload", "exactly one of Days | CreatedBeforeDate"),
    ({"id": "r", "abort_multipart_upload": {}}, "rules[0].abort_multipart_upload", "exactly one"),
    ({"id": "r", "expiration": {"created_before": "2026-01-01T00:00:00Z"}}, "rules[0].expiration.created_before",
     "YYYY-MM-DD"),
    ({"id": "r", "expiration": {"created_before": "2026-02-30"}}, "rules[0].expiration.created_before", "YYYY-MM-DD"),
    ({"id": "r", "prefix": "a/"}, "rules[0]", "has no action"),
    ({"id": "r", "enabled": "yes", "expiration": {"days": 1}}, "rules[0].enabled", "true or false"),
    ({"id": "r", "expiration": {"days": 1}, "colour": "red"}, "rules[0].colour", "no field 'colour'"),
    ({"id": 7, "expiration": {"days": 1}}, "rules[0].id", "a string"),
    ({"id": "x" * 256, "expiration": {"days": 1}}, "rules[0].id", "longer than 255"),
    ({"id": "r", "transitions": [{"storage_class": "Glacier", "days": 3}]}, "rules[0].transitions[0].storage_class",
     "one of IA, Archive"),
    ({"id": "r", "expiration": {"days": 10}, "transitions": [{"storage_class": "IA", "days": 30}]},
     "rules[0].transitions", "transitions must happen sooner"),
    ({"id": "r", "tags": [{"key": "k", "value": "v"}], "abort_multipart_upload": {"days": 1}}, "rules[0].tags",
     "parts of uploads have no tags"),
    ({"id": "r", "prefix": "logs/", "expiration": {"days": 1}, "filter": {"exclusions": [{"prefix": "tmp/"}]}},
     "rules[0].filter.exclusions", "must be longer than, and start with"),
    ({"id": "r", "expiration": {"days": 1}, "filter": {"size_greater_than": 10, "size_less_than": 5}},
     "rules[0].filter", "matches nothing"),
    ("parts", "rules[0]", "JSON object"),
])
def test_refusals_name_the_field(rule: object, field: str, says: str) -> None:
    with pytest.raises(RuleJsonError) as refused:
        configuration_from_json([rule])
    assert (refused.value.field, says in refused.value.message) == (field, True), refused.value.message


def test_refusals_between_rules_name_the_later_rule() -> None:
    first = {"id": "a", "prefix": "tmp/", "abort_multipart_upload": {"days": 1}}
    others = [{"id": f"logs-{i}", "prefix": f"logs/{i}/", "expiration": {"days": 1}} for i in range(5)]
    with pytest.raises(RuleJsonError) as duplicate:
        configuration_from_json([first, *others, {**first, "prefix": "other/"}])
    assert duplicate.value.field == "rules[6].id" and "more than one rule" in duplicate.value.message
    with pytest.raises(RuleJsonError) as overlap:
        configuration_from_json([first, *others, {"id": "b", "prefix": "tmp/x/", "abort_multipart_upload": {"days": 3}}])
    assert overlap.value.field == "rules[6].prefix" and "overlapping prefixes" in overlap.value.message
    assert len(configuration_from_json([first, {"id": "b", "prefix": "tmp/x/", "abort_multipart_upload": {"days": 3}}],
                                       allow_same_action_overlap=True).rules) == 2


def test_a_rule_added_to_saved_ones_is_named_as_the_new_rule() -> None:
    saved = [Rule("a", prefix="tmp/", abort_multipart_upload=AbortMultipartUpload(days=1))]
    new = rule_from_json({"id": "a", "prefix": "logs/", "expiration": {"days": 1}})
    with pytest.raises(RuleJsonError) as refused:
        validated([*saved, new], ["rules[0]", "rule"])
    assert refused.value.field == "rule.id"


def test_an_empty_list_or_not_a_list_is_refused() -> None:
    with pytest.raises(RuleJsonError) as empty:
        configuration_from_json([])
    assert empty.value.field == "rules" and "at least one rule" in empty.value.message
    with pytest.raises(RuleJsonError) as scalar:
        configuration_from_json({"rules": []})
    assert scalar.value.field == "rules"
