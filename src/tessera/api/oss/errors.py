"""Domain and authentication errors as OSS answers them: (status, code), in one table.

oss2 picks its exception class from the (status, code) pair, so a right code with a wrong
status degrades to a generic error (docs/wire.md, Errors). Deterministic client
errors never use statuses the SDKs retry (5xx, 401, 408, 429).
"""

from __future__ import annotations

import base64

from tessera.api.auth import AuthError
from tessera.api.oss.wire import document, element, leaf
from tessera.core import errors

STATUS: dict[type[errors.TesseraError], tuple[int, str]] = {
    errors.InvalidBucketName: (400, "InvalidBucketName"),
    errors.InvalidObjectName: (400, "InvalidObjectName"),
    errors.KeyTooLong: (400, "KeyTooLong"),
    errors.NoSuchBucket: (404, "NoSuchBucket"),
    errors.NoSuchKey: (404, "NoSuchKey"),
    errors.NoSuchUpload: (404, "NoSuchUpload"),
    errors.NoSuchLifecycle: (404, "NoSuchLifecycle"),
    errors.NoSuchCORSConfiguration: (404, "NoSuchCORSConfiguration"),
    errors.BucketAlreadyExists: (409, "BucketAlreadyExists"),
    errors.BucketNotEmpty: (409, "BucketNotEmpty"),
    errors.FileAlreadyExists: (409, "FileAlreadyExists"),
    errors.PositionNotEqualToLength: (409, "PositionNotEqualToLength"),
    errors.ObjectNotAppendable: (409, "ObjectNotAppendable"),
    errors.InvalidArgument: (400, "InvalidArgument"),
    errors.MalformedXML: (400, "MalformedXML"),
    errors.InvalidTag: (400, "InvalidTag"),
    errors.InvalidDigest: (400, "InvalidDigest"),
    errors.IncompleteBody: (400, "IncompleteBody"),
    errors.EntityTooLarge: (400, "EntityTooLarge"),
    errors.MissingContentLength: (411, "MissingContentLength"),
    errors.InvalidPart: (400, "InvalidPart"),
    errors.InvalidPartOrder: (400, "InvalidPartOrder"),
    errors.EntityTooSmall: (400, "EntityTooSmall"),
    errors.PreconditionFailed: (412, "PreconditionFailed"),
    errors.NotModified: (304, ""),
    errors.InvalidRange: (416, "InvalidRange"),
    errors.AccessDenied: (403, "AccessDenied"),
    errors.NotSymlink: (400, "NotSymlink"),
    errors.InvalidTargetType: (400, "InvalidTargetType"),
    errors.InvalidObjectState: (403, "InvalidObjectState"),
    errors.OperationNotSupported: (400, "OperationNotSupported"),
    errors.RestoreAlreadyInProgress: (409, "RestoreAlreadyInProgress"),
    errors.ArchiveRestoreFileStale: (409, "ArchiveRestoreFileStale"),
    errors.ArchiveRestoreNotFinished: (409, "ArchiveRestoreNotFinished"),
    errors.InternalError: (500, "InternalError"),
    errors.ServiceUnavailable: (503, "ServiceUnavailable"),
}

AUTH_STATUS = {"InvalidArgument": 400}


class OssError(Exception):
    """A wire-level error not raised by the core (routing, unsupported operations)."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers: dict[str, str] = {}  # sent with the error document


def expected(error: Exception) -> bool:
    """An error the client is told about as itself; any other is a bug, logged with its traceback
    and answered as InternalError."""
    return isinstance(error, (errors.TesseraError, AuthError, OssError))


def classify(error: Exception) -> OssError:
    if isinstance(error, OssError):
        return error
    if isinstance(error, AuthError):
        return OssError(AUTH_STATUS.get(error.code, 403), error.code, error.message, **error.details)
    if isinstance(error, errors.TesseraError):
        for cls in type(error).__mro__:
            if cls in STATUS:
                status, code = STATUS[cls]  # type: ignore[index]
                answer = OssError(status, code, error.message, **error.details)
                if isinstance(error, errors.PositionNotEqualToLength):
                    # oss2 and v2 read where to append next from this header (docs/wire.md, Errors).
                    answer.headers["x-oss-next-append-position"] = str(error.next_position)
                return answer
    return OssError(500, "InternalError", errors.InternalError.default_message)


def error_document(error: OssError, *, request_id: str, host_id: str) -> bytes:
    root = element(
        "Error",
        leaf("Code", error.code),
        leaf("Message", error.message),
        leaf("RequestId", request_id),
        leaf("HostId", host_id),
        *(leaf(name, value) for name, value in error.details.items()),
    )
    return document(root)


def error_header(body: bytes) -> str:
    """Bodyless responses (HEAD) carry the error XML base64-encoded in ``x-oss-err``."""
    return base64.b64encode(body).decode("ascii")
