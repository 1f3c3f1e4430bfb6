"""What the signature gate sees of a request, and how it says no."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Mapping

MAX_SKEW_SECONDS = 15 * 60


@dataclass(frozen=True)
class RequestToVerify:
    method: str
    bucket: str  # "" for service operations
    key: str  # decoded key; "" for bucket and service operations
    query: list[tuple[str, str]]  # form-decoded, in arrival order, blanks kept
    headers: Mapping[str, str]  # case-insensitive

    def query_value(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


@dataclass
class AuthError(Exception):
    """A request that is not (or no longer) allowed; ``code`` is the OSS error code."""

    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


def unknown_key(access_key_id: str) -> AuthError:
    return AuthError("InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
                     {"OSSAccessKeyId": access_key_id})


def skewed(request_time: str, server_time: str) -> AuthError:
    return AuthError("RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large.",
                     {"RequestTime": request_time, "ServerTime": server_time})


def expired() -> AuthError:
    return AuthError("AccessDenied", "Request has expired.")


def same_secret(expected: str, provided: str) -> bool:
    """Constant-time comparison of what a client sent (a signature, a token) with what it should
    be, whatever the client put there (``hmac.compare_digest`` refuses non-ASCII str, and a
    header that is not UTF-8 arrives holding lone surrogates)."""
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogateescape"))
