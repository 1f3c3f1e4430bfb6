"""Which bucket names and object keys Tessera accepts (OSS rules, docs/wire.md, Limits and names)."""

from __future__ import annotations

import re

from tessera.core.errors import InvalidArgument, InvalidBucketName, InvalidObjectName, KeyTooLong
from tessera.core.models import STORAGE_CLASSES

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023


def is_bucket_name(name: str) -> bool:
    """3–63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit.

    A leading '-' is impossible, which keeps ``/-/`` free for Tessera's own endpoints.
    """
    return _BUCKET_NAME.fullmatch(name) is not None


def check_bucket_name(name: str) -> None:
    if not is_bucket_name(name):
        raise InvalidBucketName(f"The specified bucket is not valid: {name!r}.", BucketName=name)


def check_key(key: str) -> None:
    """1–1023 bytes of UTF-8, not starting with '/' or '\\', and without NUL (no XML document
    can carry it, nor can PostgreSQL text). Other control characters are allowed, as in OSS."""
    if not key:
        raise InvalidObjectName("The object key must not be empty.")
    if "\x00" in key:
        raise InvalidObjectName("The object key must not contain the NUL character.")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidObjectName("The object key is not valid UTF-8.") from None
    if size > MAX_KEY_BYTES:
        raise KeyTooLong(f"The object key is {size} bytes long; at most {MAX_KEY_BYTES} are allowed.")
    if key[0] in "/\\":
        raise InvalidObjectName("The object key must not start with '/' or '\\'.", Key=key)


def check_storage_class(value: str) -> str:
    for known in STORAGE_CLASSES:
        if value.lower() == known.lower():
            return known
    raise InvalidArgument(
        f"Unsupported storage class {value!r}; use one of {', '.join(STORAGE_CLASSES)}.",
        name="x-oss-storage-class",
        value=value,
    )
