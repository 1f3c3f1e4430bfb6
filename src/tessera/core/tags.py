"""Object tags, checked as OSS checks them: at most 10 per object, keys of 1 to 128 characters,
values of at most 256, each key once."""

from __future__ import annotations

from tessera.core.errors import InvalidTag

MAX_TAGS = 10
MAX_KEY = 128
MAX_VALUE = 256


def check_tags(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The tags as a mapping, or InvalidTag naming what is wrong."""
    if len(pairs) > MAX_TAGS:
        raise InvalidTag(f"An object can have at most {MAX_TAGS} tags, not {len(pairs)}.")
    tags: dict[str, str] = {}
    for key, value in pairs:
        if not 1 <= len(key) <= MAX_KEY:
            raise InvalidTag(f"A tag key must have 1 to {MAX_KEY} characters: {key!r}.")
        if len(value) > MAX_VALUE:
            raise InvalidTag(f"The value of tag {key!r} is longer than {MAX_VALUE} characters.")
        if key in tags:
            raise InvalidTag(f"Tag key {key!r} appears more than once.")
        tags[key] = value
    return tags
