"""``oss://bucket/key`` URLs, as ossutil spells them."""

from __future__ import annotations

from dataclasses import dataclass

SCHEME = "oss://"


class UrlError(ValueError):
    pass


@dataclass(frozen=True)
class OssUrl:
    bucket: str
    key: str = ""  # an object key, or a prefix; empty for the whole bucket

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}" if self.key else f"{SCHEME}{self.bucket}"

    def child(self, name: str) -> OssUrl:
        """The URL of ``name`` under this one taken as a directory."""
        prefix = self.key if not self.key or self.key.endswith("/") else self.key + "/"
        return OssUrl(self.bucket, prefix + name)


def is_oss_url(text: str) -> bool:
    return text.lower().startswith(SCHEME)


def parse_url(text: str, *, need_key: bool = False, bucket_only: bool = False) -> OssUrl:
    """Parse ``oss://bucket[/key]``; refuse what the command cannot use, saying why."""
    if not is_oss_url(text):
        raise UrlError(f"not an oss:// URL: {text!r}")
    bucket, _, key = text[len(SCHEME):].partition("/")
    if not bucket:
        raise UrlError(f"no bucket in {text!r}")
    if need_key and not key:
        raise UrlError(f"{text!r} names a bucket; give an object: oss://{bucket}/KEY")
    if bucket_only and key:
        raise UrlError(f"{text!r} names an object; give a bucket: oss://{bucket}")
    return OssUrl(bucket, key)
