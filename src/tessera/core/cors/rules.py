"""Cross-origin rules of a bucket: what they may hold, and which one a browser's request
matches (docs/compatibility.md, CORS).

A request matches a rule when its origin matches one of the rule's origins, its method (or, for
a preflight, the method it announces) is one of the rule's methods, and every header a preflight
announces matches one of the rule's headers. The first matching rule, in configuration order,
decides; none matching means no cross-origin access.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.core.errors import InvalidArgument, MalformedXML

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_RULES = 10
MAX_AGE_SECONDS = 2**31 - 1


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None

    def allows(self, origin: str, method: str, headers: list[str]) -> bool:
        return (any(wildcard_match(p, origin) for p in self.allowed_origins)
                and method in self.allowed_methods
                and all(any(wildcard_match(p.lower(), h.lower()) for p in self.allowed_headers) for h in headers))


@dataclass(frozen=True)
class CorsConfiguration:
    rules: tuple[CorsRule, ...]
    response_vary: bool = False

    def first_match(self, origin: str, method: str, headers: list[str] | None = None) -> CorsRule | None:
        for rule in self.rules:
            if rule.allows(origin, method, headers or []):
                return rule
        return None


def wildcard_match(pattern: str, value: str) -> bool:
    """``pattern`` with at most one ``*`` standing for any run of characters (none included)."""
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def check_configuration(config: CorsConfiguration) -> CorsConfiguration:
    """The configuration if OSS would accept it; InvalidArgument or MalformedXML saying why not."""
    if not config.rules:
        raise MalformedXML("A CORSConfiguration needs at least one <CORSRule>.")
    if len(config.rules) > MAX_RULES:
        raise InvalidArgument(f"A bucket can have at most {MAX_RULES} CORS rules, not {len(config.rules)}.",
                              name="CORSRule", value=str(len(config.rules)))
    for rule in config.rules:
        _check_rule(rule)
    return config


def _check_rule(rule: CorsRule) -> None:
    if not rule.allowed_origins:
        raise MalformedXML("Each <CORSRule> needs at least one <AllowedOrigin>.")
    if not rule.allowed_methods:
        raise MalformedXML("Each <CORSRule> needs at least one <AllowedMethod>.")
    for method in rule.allowed_methods:
        if method not in METHODS:
            raise InvalidArgument(f"AllowedMethod must be one of {', '.join(METHODS)}, not {method!r}.",
                                  name="AllowedMethod", value=method)
    for name, values in (("AllowedOrigin", rule.allowed_origins), ("AllowedHeader", rule.allowed_headers)):
        for value in values:
            if not value or value.count("*") > 1:
                raise InvalidArgument(f"Each {name} must be non-empty and hold at most one '*'.", name=name,
                                      value=value)
    for value in rule.expose_headers:
        if not value or "*" in value:
            raise InvalidArgument("An ExposeHeader must be a header name, without '*'.", name="ExposeHeader",
                                  value=value)
    if rule.max_age_seconds is not None and not 0 <= rule.max_age_seconds <= MAX_AGE_SECONDS:
        raise InvalidArgument(f"MaxAgeSeconds must be from 0 to {MAX_AGE_SECONDS}.", name="MaxAgeSeconds",
                              value=str(rule.max_age_seconds))
