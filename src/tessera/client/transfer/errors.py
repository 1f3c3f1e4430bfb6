"""The OSS error inside the SDK's wrappers."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss


def service_error(error: BaseException) -> oss.exceptions.ServiceError | None:
    """The server's answer (code, status, request ID) that ``error`` carries, if any."""
    while isinstance(error, oss.exceptions.OperationError):
        error = error.unwrap()
    return error if isinstance(error, oss.exceptions.ServiceError) else None


def error_code(error: BaseException) -> str | None:
    found = service_error(error)
    return found.code if found is not None else None
