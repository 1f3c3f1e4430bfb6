"""The authentication gate: which scheme signed a request, and whether the signature holds.

It only says who sent a request; what that sender (or an anonymous one) may do is decided
after routing, once the operation is known (``tessera.api.oss.authorize``)."""

from __future__ import annotations

from datetime import datetime
from typing import Awaitable, Callable

from tessera.api.auth import oss_v1, oss_v4
from tessera.api.auth.request import AuthError, RequestToVerify


async def authenticate(req: RequestToVerify, secret_for: Callable[[str], Awaitable[str | None]], *,
                       now: datetime, region: str) -> str | None:
    """The AccessKeyId that signed ``req``, or None for an unsigned (anonymous) request;
    AuthError when a signature is there and does not hold."""
    authorization = (req.headers.get("Authorization") or "").strip()
    if authorization.startswith(oss_v4.ALGORITHM):
        return await oss_v4.verify_header(req, authorization, secret_for, now, region)
    if authorization.startswith("OSS "):
        return await oss_v1.verify_header(req, authorization, secret_for, now)
    if authorization:
        raise AuthError("InvalidArgument", "Unsupported Authorization scheme; use OSS signature V1 or V4.")
    if req.query_value("x-oss-signature-version") == oss_v4.ALGORITHM:
        return await oss_v4.verify_query(req, secret_for, now, region)
    if req.query_value("OSSAccessKeyId") is not None:
        return await oss_v1.verify_query(req, secret_for, now)
    return None
