"""Where a request points: bucket, key and query, read from the raw request target.

The path is never normalised: ``a//b`` and ``../x`` are keys like any other. oss2 sends '/'
in keys as ``%2F`` and v2 sends it literally, so the key is percent-decoded only after the
bucket is split off; '+' in a path is a plus, not a space (docs/wire.md, Addressing and the
request target).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from tessera.api.addressing import bucket_in_host
from tessera.core.errors import InvalidArgument, InvalidObjectName


@dataclass(frozen=True)
class Target:
    bucket: str
    key: str
    query: list[tuple[str, str]]

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.query)

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``; an empty value counts as absent (oss2 sends ``prefix=``)."""
        for k, v in self.query:
            if k == name and v != "":
                return v
        return default


def parse_target(raw_target: str, host: str, base_domain: str | None) -> Target:
    path, _, query_string = raw_target.partition("?")
    try:
        query = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidArgument("The query string is not valid UTF-8.") from None
    for name, value in query:
        if "\x00" in name or "\x00" in value:
            # No key, marker, prefix or upload ID holds NUL (nor can PostgreSQL text).
            raise InvalidArgument(f"The query parameter {name!r} contains the NUL character.", name=name,
                                  value=value)
    path = path.removeprefix("/")
    bucket = bucket_in_host(host, base_domain)
    if bucket is None:
        raw_bucket, _, raw_key = path.partition("/")
        bucket = unquote(raw_bucket)
    else:
        raw_key = path
    try:
        key = unquote(raw_key, errors="strict")
    except UnicodeDecodeError:
        raise InvalidObjectName("The object key is not valid UTF-8.") from None
    return Target(bucket, key, query)

