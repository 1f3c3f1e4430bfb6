"""CORS rule matching and validation (tessera.core.cors.rules), without a server."""

from __future__ import annotations

import pytest

from tessera.core.cors.rules import MAX_RULES, CorsConfiguration, CorsRule, check_configuration, wildcard_match
from tessera.core.errors import InvalidArgument, MalformedXML


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    ("*", "http://anything", True),
    ("*", "", True),
    ("http://*.example.com", "http://a.example.com", True),
    ("http://*.example.com", "http://a.b.example.com", True),
    ("http://*.example.com", "http://example.com", False),
    ("http://*.example.com", "https://a.example.com", False),
    ("http://*.example.com", "http://a.example.com.evil.test", False),
    ("http://app.test", "http://app.test", True),
    ("http://app.test", "http://app.test:8080", False),
    ("a*a", "a", False),  # the head and the tail may not overlap
    ("a*a", "aa", True),
    ("x-oss-*", "x-oss-meta-a", True),
])
def test_wildcards(pattern: str, value: str, matches: bool) -> None:
    assert wildcard_match(pattern, value) is matches


def test_first_matching_rule_decides() -> None:
    narrow = CorsRule(("http://a.test",), ("GET",), ("x-oss-meta-*",))
    broad = CorsRule(("*",), ("GET", "PUT"), ("*",))
    config = CorsConfiguration((narrow, broad))
    assert config.first_match("http://a.test", "GET", ["X-OSS-Meta-One"]) is narrow  # headers compare case-blind
    assert config.first_match("http://a.test", "GET", ["Authorization"]) is broad
    assert config.first_match("http://a.test", "PUT") is broad
    assert config.first_match("http://a.test", "DELETE") is None
    assert config.first_match("http://a.test", "get") is None  # methods are as HTTP spells them


def test_a_rule_without_allowed_headers_allows_none() -> None:
    rule = CorsRule(("*",), ("PUT",))
    assert rule.allows("http://a.test", "PUT", [])
    assert not rule.allows("http://a.test", "PUT", ["content-type"])


def _rule(**changes: object) -> CorsRule:
    fields = {"allowed_origins": ("*",), "allowed_methods": ("GET",), **changes}
    return CorsRule(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("config", "error"), [
    (CorsConfiguration(()), MalformedXML),
    (CorsConfiguration((_rule(),) * (MAX_RULES + 1)), InvalidArgument),
    (CorsConfiguration((_rule(allowed_origins=()),)), MalformedXML),
    (CorsConfiguration((_rule(allowed_methods=()),)), MalformedXML),
    (CorsConfiguration((_rule(allowed_methods=("OPTIONS",)),)), InvalidArgument),
    (CorsConfiguration((_rule(allowed_origins=("**",)),)), InvalidArgument),
    (CorsConfiguration((_rule(allowed_origins=("",)),)), InvalidArgument),
    (CorsConfiguration((_rule(allowed_headers=("a*b*",)),)), InvalidArgument),
    (CorsConfiguration((_rule(expose_headers=("x-*",)),)), InvalidArgument),
    (CorsConfiguration((_rule(max_age_seconds=2**31),)), InvalidArgument),
])
def test_invalid_configurations(config: CorsConfiguration, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_configuration(config)


def test_valid_configuration_is_kept_as_given() -> None:
    config = CorsConfiguration((_rule(),) * MAX_RULES, response_vary=True)
    assert check_configuration(config) is config
