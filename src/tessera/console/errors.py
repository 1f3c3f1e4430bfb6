"""Domain errors as the console reports them: a status and the domain's own name for the error,
in one table. Anything else is the console's fault: 500, logged."""

from __future__ import annotations

from tessera.console.responses import ConsoleError
from tessera.core import errors

STATUS: dict[type[errors.TesseraError], int] = {
    errors.NoSuchBucket: 404,
    errors.NoSuchKey: 404,
    errors.NoSuchUpload: 404,
    errors.NoSuchJob: 404,
    errors.NoSuchLifecycle: 404,
    errors.NoSuchCORSConfiguration: 404,
    errors.BucketAlreadyExists: 409,
    errors.BucketNotEmpty: 409,
    errors.FileAlreadyExists: 409,
    errors.PositionNotEqualToLength: 409,
    errors.ObjectNotAppendable: 409,
    errors.RestoreAlreadyInProgress: 409,
    errors.ArchiveRestoreFileStale: 409,
    errors.ArchiveRestoreNotFinished: 409,
    errors.PreconditionFailed: 412,
    errors.InvalidRange: 416,
    errors.MissingContentLength: 411,
    errors.AccessDenied: 403,
    errors.InvalidObjectState: 403,
    errors.InternalError: 500,
    errors.ServiceUnavailable: 503,
}


def classify(error: Exception) -> ConsoleError:
    if isinstance(error, ConsoleError):
        return error
    if isinstance(error, errors.TesseraError):
        status = next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)
        code = next(cls.__name__ for cls in type(error).__mro__ if cls.__module__ == errors.__name__)
        return ConsoleError(status, code, error.message, **error.details)
    return ConsoleError(500, "InternalError", "The console could not serve this request; the server log says why.")


def expected(error: Exception) -> bool:
    """Errors that are the request's fault, not the server's (no traceback in the log)."""
    return classify(error).status < 500 and (isinstance(error, (ConsoleError, errors.TesseraError)))
