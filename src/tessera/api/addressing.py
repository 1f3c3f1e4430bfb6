"""Which bucket a request's ``Host`` names: virtual-hosted addressing (docs/compatibility.md,
Addressing styles).

A Host of the form ``<bucket>.<service domain>`` addresses that bucket, whatever address the
connection came to: the OSS service domains (``<bucket>.oss-cn-hangzhou.aliyuncs.com``, its
``-internal`` and accelerate forms, the dual-stack ``<bucket>.cn-hangzhou.oss.aliyuncs.com``) and
the server's own ``--domain``. ali-oss always sends such a Host, built from its ``region``, even
when its endpoint is an IP address; code that keeps its real endpoint and reaches Tessera
through DNS or a hosts file sends one too. Any other Host (an IP address, ``localhost``, the bare
service domain) leaves the bucket to the path: path style always works.

The bucket ``-`` is Tessera's own (``-.<domain>/admin/...`` is ``/-/admin/...``): no bucket can
be called ``-``.
"""

from __future__ import annotations

import re

# One DNS label: what a bucket name can be (the name itself is checked where buckets are).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|-"
OSS_SERVICE_DOMAIN = re.compile(
    r"(?:oss-[a-z0-9-]+"  # oss-cn-hangzhou, oss-cn-hangzhou-internal, oss-accelerate, ...
    r"|[a-z0-9-]+\.oss)"  # cn-hangzhou.oss (dual-stack)
    r"\.aliyuncs\.com"
)
_VIRTUAL_HOST = re.compile(rf"(?P<bucket>{_LABEL})\.(?P<domain>.+)")

TESSERA_BUCKET = "-"


def hostname(host: str) -> str:
    """The Host header without its port, lower-case, without a trailing dot."""
    if host.startswith("["):  # an IPv6 literal, [::1]:9000
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0].lower().rstrip(".") if ":" in host else host.lower().rstrip(".")


def bucket_in_host(host: str, base_domain: str | None) -> str | None:
    """The bucket a virtual-hosted request names, or None when the path names it."""
    match = _VIRTUAL_HOST.fullmatch(hostname(host))
    if match is None:
        return None
    domain = match["domain"]
    if base_domain and domain == base_domain.lower().rstrip("."):
        return match["bucket"]
    if OSS_SERVICE_DOMAIN.fullmatch(domain):
        return match["bucket"]
    return None
