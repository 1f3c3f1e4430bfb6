"""OSS signature V1: HMAC-SHA1 over method, MD5, type, date, x-oss headers and resource
(docs/wire.md, Signatures)."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
from datetime import datetime, timezone
from typing import Awaitable, Callable

from tessera.api.auth.request import (
    MAX_SKEW_SECONDS,
    SIGNATURE_MISMATCH,
    AuthError,
    RequestToVerify,
    expired,
    same_secret,
    skewed,
    unknown_key,
)
from tessera.api.numbers import decimal

# The two SDKs sign different sub-resource lists (docs/wire.md, Signatures); a request is
# accepted when either list reproduces its signature.
OSS2_SUBRESOURCES = frozenset(
    "response-content-type response-content-language response-cache-control logging response-content-encoding "
    "acl uploadId uploads partNumber group link delete website location objectInfo objectMeta response-expires "
    "response-content-disposition cors lifecycle restore qos referer stat bucketInfo append position "
    "security-token live comp status vod startTime endTime x-oss-process symlink callback callback-var tagging "
    "encryption versions versioning versionId policy requestPayment x-oss-traffic-limit qosInfo asyncFetch "
    "x-oss-request-payer sequential inventory inventoryId continuation-token worm wormId wormExtend replication "
    "replicationLocation replicationProgress transferAcceleration cname metaQuery x-oss-ac-source-ip "
    "x-oss-ac-subnet-mask x-oss-ac-vpc-id x-oss-ac-forward-allow resourceGroup style styleName "
    "x-oss-async-process regionList x-oss-write-get-object-response bucketArchiveDirectRead httpsConfig "
    "redundancyTransition x-oss-target-redundancy-type x-oss-redundancy-transition-taskid accessPoint "
    "accessPointPolicy publicAccessBlock x-oss-access-point-name requesterQosInfo qosRequester "
    "resourcePoolInfo resourcePool resourcePoolBuckets".split()
)
V2_SUBRESOURCES = frozenset(
    "acl bucketInfo location stat delete append tagging objectMeta uploads uploadId partNumber security-token "
    "position response-content-type response-content-language response-expires response-cache-control "
    "response-content-disposition response-content-encoding restore callback callback-var versions versioning "
    "versionId sequential continuation-token regionList cloudboxes symlink resourceGroup".split()
)
# Sub-resources v2 signs only for their own operation, and oss2 never does.
V2_OPERATION_SUBRESOURCES = frozenset({"cleanRestoredObject"})
PRESIGN_PARAMS = frozenset({"OSSAccessKeyId", "Expires", "Signature"})

SecretLookup = Callable[[str], Awaitable[str | None]]


def canonical_resource(req: RequestToVerify, signed_names: frozenset[str]) -> str:
    resource = f"/{req.bucket}/{req.key}" if req.bucket else "/"
    pairs = sorted((k, v) for k, v in req.query if k in signed_names and k not in PRESIGN_PARAMS)
    if pairs:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in pairs)
    return resource


def string_to_sign(req: RequestToVerify, date: str, signed_names: frozenset[str]) -> str:
    oss_headers = sorted(
        (name.lower(), value) for name, value in req.headers.items() if name.lower().startswith("x-oss-")
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in oss_headers)
    return "\n".join([
        req.method,
        req.headers.get("Content-MD5", ""),
        req.headers.get("Content-Type", ""),
        date,
        canonical_headers + canonical_resource(req, signed_names),
    ])


def candidate_strings(req: RequestToVerify, date: str) -> list[str]:
    """oss2's list, then v2's list plus the operation's own bare sub-resource (e.g. lifecycle)."""
    bare = frozenset(k for k, v in req.query
                     if v == "" and (k in OSS2_SUBRESOURCES or k in V2_OPERATION_SUBRESOURCES))
    first = string_to_sign(req, date, OSS2_SUBRESOURCES)
    second = string_to_sign(req, date, V2_SUBRESOURCES | bare)
    return [first] if second == first else [first, second]


def sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode("utf-8"), hashlib.sha1).digest()).decode()


async def _check(req: RequestToVerify, access_key_id: str, signature: str, date: str,
                 secret_for: SecretLookup) -> str:
    secret = await secret_for(access_key_id)
    if secret is None:
        raise unknown_key(access_key_id)
    candidates = candidate_strings(req, date)
    for text in candidates:
        if same_secret(sign(secret, text), signature):
            return access_key_id
    raise AuthError("SignatureDoesNotMatch", SIGNATURE_MISMATCH,
                    {"StringToSign": candidates[0], "OSSAccessKeyId": access_key_id, "SignatureProvided": signature})


async def verify_header(req: RequestToVerify, authorization: str, secret_for: SecretLookup, now: datetime) -> str:
    """``Authorization: OSS <AccessKeyId>:<Signature>``."""
    credential = authorization[len("OSS "):].strip()
    access_key_id, colon, signature = credential.rpartition(":")
    if not colon or not access_key_id or not signature:
        raise AuthError("InvalidArgument", "The Authorization header is malformed; expected 'OSS AccessKeyId:Signature'.")
    date = req.headers.get("x-oss-date") or req.headers.get("Date") or ""
    try:
        request_time = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise AuthError("AccessDenied", "OSS authentication requires a valid Date.") from None
    if request_time.tzinfo is None:
        request_time = request_time.replace(tzinfo=timezone.utc)
    if abs((now - request_time).total_seconds()) > MAX_SKEW_SECONDS:
        raise skewed(date, email.utils.format_datetime(now, usegmt=True))
    return await _check(req, access_key_id, signature, date, secret_for)


async def verify_query(req: RequestToVerify, secret_for: SecretLookup, now: datetime) -> str:
    """A presigned URL: ``OSSAccessKeyId``, ``Expires`` (unix seconds) and ``Signature``."""
    access_key_id = req.query_value("OSSAccessKeyId") or ""
    expires = req.query_value("Expires") or ""
    signature = req.query_value("Signature") or ""
    expires_at = decimal(expires)
    if not access_key_id or not signature or expires_at is None:
        raise AuthError("AccessDenied", "A presigned URL needs OSSAccessKeyId, a numeric Expires and Signature.")
    if now.timestamp() > expires_at:
        raise expired()
    return await _check(req, access_key_id, signature, expires, secret_for)
