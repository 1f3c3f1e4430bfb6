"""The signature of a PostObject form: over the base64 policy, V1 (HMAC-SHA1, ``OSSAccessKeyId``
and ``Signature``) or V4 (``x-oss-signature-version``, ``x-oss-credential``, ``x-oss-date``,
``x-oss-signature``, the V4 signing key) — docs/compatibility.md, PostObject.

The form carries its own credentials, so these requests skip the header and query gate; what
the signer (or an anonymous sender) may do is decided after, as for any request
(``tessera.api.oss.authorize``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Mapping

from tessera.api.auth import oss_v1, oss_v4
from tessera.api.auth.request import MAX_SKEW_SECONDS, SIGNATURE_MISMATCH, AuthError, expired, same_secret, unknown_key

MAX_V4_AGE = timedelta(days=7)

SecretLookup = Callable[[str], Awaitable[str | None]]


def _required(fields: Mapping[str, str], name: str, spelled: str) -> str:
    value = fields.get(name)
    if not value:
        raise AuthError("InvalidArgument", f"A signed PostObject form needs a non-empty {spelled} field.",
                        {"ArgumentName": spelled, "ArgumentValue": value or ""})
    return value


async def verify_form(fields: Mapping[str, str], secret_for: SecretLookup, *, now: datetime,
                      region: str) -> str | None:
    """The AccessKeyId that signed the form's policy, or None for a form with no signature
    fields at all (anonymous: what it may do is the bucket's ACL's to say); ``fields`` are keyed
    by lower-cased name."""
    if "x-oss-signature-version" in fields:
        return await _verify_v4(fields, secret_for, now, region)
    if "ossaccesskeyid" in fields:
        return await _verify_v1(fields, secret_for)
    return None


async def _verify_v1(fields: Mapping[str, str], secret_for: SecretLookup) -> str:
    access_key_id = _required(fields, "ossaccesskeyid", "OSSAccessKeyId")
    policy = _required(fields, "policy", "policy")
    signature = _required(fields, "signature", "Signature")
    secret = await secret_for(access_key_id)
    if secret is None:
        raise unknown_key(access_key_id)
    if not same_secret(oss_v1.sign(secret, policy), signature):
        raise AuthError("SignatureDoesNotMatch", SIGNATURE_MISMATCH,
                        {"StringToSign": policy, "OSSAccessKeyId": access_key_id, "SignatureProvided": signature})
    return access_key_id


async def _verify_v4(fields: Mapping[str, str], secret_for: SecretLookup, now: datetime, region: str) -> str:
    version = fields["x-oss-signature-version"]
    if version != oss_v4.ALGORITHM:
        raise AuthError("InvalidArgument", f"x-oss-signature-version must be {oss_v4.ALGORITHM}.",
                        {"ArgumentName": "x-oss-signature-version", "ArgumentValue": version})
    credential = oss_v4.parse_credential(_required(fields, "x-oss-credential", "x-oss-credential"))
    request_time = _required(fields, "x-oss-date", "x-oss-date")
    signature = _required(fields, "x-oss-signature", "x-oss-signature")
    policy = _required(fields, "policy", "policy")
    when = oss_v4.parse_time(request_time)
    if credential.region != region:
        raise AuthError("InvalidArgument", "Invalid signing region in x-oss-credential.",
                        {"ArgumentName": "region", "ArgumentValue": credential.region})
    if credential.date != request_time[:8]:
        raise AuthError("InvalidArgument", "The credential date does not match x-oss-date.")
    if (when - now).total_seconds() > MAX_SKEW_SECONDS:
        raise AuthError("AccessDenied", "x-oss-date is more than 15 minutes ahead of the server's time.")
    if now - when > MAX_V4_AGE:
        raise expired()
    secret = await secret_for(credential.access_key_id)
    if secret is None:
        raise unknown_key(credential.access_key_id)
    expected = hmac.new(oss_v4.signing_key(secret, credential), policy.encode(), hashlib.sha256).hexdigest()
    if not same_secret(expected, signature.lower()):
        raise AuthError("SignatureDoesNotMatch", SIGNATURE_MISMATCH,
                        {"StringToSign": policy, "OSSAccessKeyId": credential.access_key_id,
                         "SignatureProvided": signature})
    return credential.access_key_id
