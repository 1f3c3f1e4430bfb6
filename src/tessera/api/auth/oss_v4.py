"""OSS signature V4 (``OSS4-HMAC-SHA256``): header and presigned forms (docs/wire.md, Signatures)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable
from urllib.parse import quote

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

ALGORITHM = "OSS4-HMAC-SHA256"
PRODUCT = "oss"
TERMINATOR = "aliyun_v4_request"
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

SecretLookup = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str  # yyyymmdd
    region: str
    product: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.product}/{TERMINATOR}"


def parse_credential(value: str) -> Credential:
    pieces = value.split("/")
    if len(pieces) != 5 or pieces[4] != TERMINATOR or not pieces[0]:
        raise AuthError("InvalidArgument", f"Invalid credential in the request: {value!r}.")
    return Credential(*pieces[:4])


def _encode(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)  # RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are


def canonical_uri(req: RequestToVerify) -> str:
    if not req.bucket:
        return "/"
    return f"/{req.bucket}/{_encode(req.key, safe='/')}"


def canonical_query(req: RequestToVerify, *, skip: str | None = None) -> str:
    pairs = sorted((_encode(k), _encode(v)) for k, v in req.query if k != skip)
    return "&".join(f"{k}={v}" if v else k for k, v in pairs)


def canonical_headers(req: RequestToVerify, additional: list[str]) -> str:
    wanted = set(additional)
    lines: dict[str, str] = {}
    for name, value in req.headers.items():
        lower = name.lower()
        if lower.startswith("x-oss-") or lower in ("content-type", "content-md5") or lower in wanted:
            lines.setdefault(lower, value.strip())
    return "".join(f"{name}:{lines[name]}\n" for name in sorted(lines))


def canonical_request(req: RequestToVerify, additional: list[str], payload_hash: str, *,
                      skip_query: str | None = None) -> str:
    return "\n".join([
        req.method,
        canonical_uri(req),
        canonical_query(req, skip=skip_query),
        canonical_headers(req, additional),
        ";".join(additional),
        payload_hash,
    ])


def signing_key(secret: str, credential: Credential) -> bytes:
    key = ("aliyun_v4" + secret).encode()
    for part in (credential.date, credential.region, credential.product, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _parse_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise AuthError("InvalidArgument", f"x-oss-date must look like 20240102T030405Z, not {value!r}.") from None


parse_time = _parse_time  # also read by the PostObject form's V4 signature (post_form.py)


async def _check(req: RequestToVerify, credential: Credential, additional: list[str], signature: str,
                 request_time: str, payload_hash: str, secret_for: SecretLookup, region: str, *,
                 skip_query: str | None = None) -> str:
    if credential.region != region:
        raise AuthError("InvalidArgument", "Invalid signing region in Authorization header.",
                        {"ArgumentName": "region", "ArgumentValue": credential.region})
    if credential.date != request_time[:8]:
        raise AuthError("InvalidArgument", "The credential date does not match x-oss-date.")
    secret = await secret_for(credential.access_key_id)
    if secret is None:
        raise unknown_key(credential.access_key_id)
    canonical = canonical_request(req, sorted(additional), payload_hash, skip_query=skip_query)
    text = "\n".join([ALGORITHM, request_time, credential.scope, hashlib.sha256(canonical.encode()).hexdigest()])
    expected = hmac.new(signing_key(secret, credential), text.encode(), hashlib.sha256).hexdigest()
    if not same_secret(expected, signature.lower()):
        raise AuthError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, {
            "StringToSign": text, "CanonicalRequest": canonical,
            "OSSAccessKeyId": credential.access_key_id, "SignatureProvided": signature,
        })
    return credential.access_key_id


def _fields(authorization: str) -> dict[str, str]:
    """Both SDK layouts: ", " or "," between fields, AdditionalHeaders anywhere."""
    fields = {}
    for piece in authorization[len(ALGORITHM):].split(","):
        name, eq, value = piece.strip().partition("=")
        if eq:
            fields[name.strip()] = value.strip()
    return fields


async def verify_header(req: RequestToVerify, authorization: str, secret_for: SecretLookup, now: datetime,
                        region: str) -> str:
    fields = _fields(authorization)
    if "Credential" not in fields or "Signature" not in fields:
        raise AuthError("InvalidArgument", "The Authorization header needs Credential and Signature.")
    credential = parse_credential(fields["Credential"])
    request_time = req.headers.get("x-oss-date") or ""
    if not request_time:
        raise AuthError("AccessDenied", "V4 signatures need an x-oss-date header.")
    when = _parse_time(request_time)
    if abs((now - when).total_seconds()) > MAX_SKEW_SECONDS:
        raise skewed(request_time, now.strftime("%Y%m%dT%H%M%SZ"))
    additional = [h.strip().lower() for h in fields.get("AdditionalHeaders", "").split(";") if h.strip()]
    payload_hash = req.headers.get("x-oss-content-sha256") or "UNSIGNED-PAYLOAD"
    return await _check(req, credential, additional, fields["Signature"], request_time, payload_hash,
                        secret_for, region)


async def verify_query(req: RequestToVerify, secret_for: SecretLookup, now: datetime, region: str) -> str:
    credential_value = req.query_value("x-oss-credential") or ""
    request_time = req.query_value("x-oss-date") or ""
    expires = req.query_value("x-oss-expires") or ""
    signature = req.query_value("x-oss-signature") or ""
    lifetime = decimal(expires)
    if not credential_value or not request_time or not signature or lifetime is None:
        raise AuthError("AccessDenied", "A V4 presigned URL needs x-oss-credential, x-oss-date, "
                                        "a numeric x-oss-expires and x-oss-signature.")
    if not 1 <= lifetime <= MAX_PRESIGN_SECONDS:
        raise AuthError("InvalidArgument", "x-oss-expires must be from 1 to 604800 seconds (7 days).",
                        {"ArgumentName": "x-oss-expires", "ArgumentValue": expires})
    # Compared as an age, never as x-oss-date + x-oss-expires, which for a URL dated at the end
    # of the calendar is no date at all. One dated more than the allowed skew ahead is not valid
    # yet: otherwise a URL signed for the far future would never expire.
    age = (now - _parse_time(request_time)).total_seconds()
    if age > lifetime:
        raise expired()
    if age < -MAX_SKEW_SECONDS:
        raise AuthError("AccessDenied", "Request is not valid yet: its x-oss-date is more than 15 minutes ahead.")
    additional = [h.strip().lower() for h in (req.query_value("x-oss-additional-headers") or "").split(";")
                  if h.strip()]
    return await _check(req, parse_credential(credential_value), additional, signature, request_time,
                        "UNSIGNED-PAYLOAD", secret_for, region, skip_query="x-oss-signature")
