"""Tessera's domain errors.

The core and the storage layers raise these; each HTTP dialect maps them to its own
(status, code, message) once, in its ``errors.py``. The class names follow the vocabulary OSS
users know, but nothing here knows about HTTP.
"""

from __future__ import annotations


class TesseraError(Exception):
    """Base of every error a client can be told about."""

    default_message = "The request could not be served."

    def __init__(self, message: str | None = None, **details: str) -> None:
        self.message = message or self.default_message
        # Extra facts a dialect may echo back (e.g. ArgumentName, Key, UploadId).
        self.details: dict[str, str] = {k: str(v) for k, v in details.items()}
        super().__init__(self.message)


# --- names -----------------------------------------------------------------------------

class InvalidBucketName(TesseraError):
    default_message = "The specified bucket is not valid."


class InvalidObjectName(TesseraError):
    default_message = "The specified object name is not valid."


class KeyTooLong(TesseraError):
    default_message = "The object key is longer than 1023 bytes."


# --- things that do not exist, or already do -----------------------------------------

class NoSuchBucket(TesseraError):
    default_message = "The specified bucket does not exist."


class NoSuchKey(TesseraError):
    default_message = "The specified key does not exist."


class NoSuchJob(TesseraError):
    default_message = "The specified job does not exist."


class NoSuchUpload(TesseraError):
    default_message = (
        "The specified upload does not exist. The upload ID may be invalid, "
        "or the upload may have been aborted or completed."
    )


class NoSuchLifecycle(TesseraError):
    default_message = "The bucket has no lifecycle configuration."


class NoSuchCORSConfiguration(TesseraError):
    default_message = "The CORS configuration does not exist."


class BucketAlreadyExists(TesseraError):
    default_message = "The requested bucket name is not available."


class BucketNotEmpty(TesseraError):
    default_message = "The bucket you tried to delete is not empty."


class FileAlreadyExists(TesseraError):
    default_message = "The object already exists and x-oss-forbid-overwrite is true."


# --- appendable objects -----------------------------------------------------------------

class PositionNotEqualToLength(TesseraError):
    """An append at a position other than the object's length (which the client is told)."""

    default_message = "Position is not equal to file length."

    def __init__(self, message: str | None = None, *, next_position: int, **details: str) -> None:
        super().__init__(message, **details)
        self.next_position = next_position


class ObjectNotAppendable(TesseraError):
    default_message = "The object is not appendable."


# --- request content ------------------------------------------------------------------

class InvalidArgument(TesseraError):
    """A parameter or header has a value Tessera cannot accept (details name it)."""

    default_message = "Invalid argument."

    def __init__(self, message: str | None = None, *, name: str = "", value: str = "") -> None:
        details = {}
        if name:
            details["ArgumentName"] = name
            details["ArgumentValue"] = value
        super().__init__(message, **details)


class InvalidTag(TesseraError):
    default_message = "The tag provided was not a valid tag."


class MalformedXML(TesseraError):
    default_message = "The XML you provided was not well-formed or did not validate."


class InvalidDigest(TesseraError):
    default_message = "The Content-MD5 you specified did not match what was received."


class IncompleteBody(TesseraError):
    default_message = "You did not provide the number of bytes specified by the Content-Length."


class EntityTooLarge(TesseraError):
    default_message = "Your proposed upload exceeds the maximum allowed size."


class MissingContentLength(TesseraError):
    default_message = "You must provide the Content-Length HTTP header."


# --- multipart completion ---------------------------------------------------------------

class InvalidPart(TesseraError):
    default_message = (
        "One or more of the specified parts could not be found or the specified "
        "entity tag might not have matched the part's entity tag."
    )


class InvalidPartOrder(TesseraError):
    default_message = "The list of parts was not in ascending order."


class EntityTooSmall(TesseraError):
    default_message = "Your proposed upload is smaller than the minimum allowed size."


# --- reads ------------------------------------------------------------------------------

class PreconditionFailed(TesseraError):
    default_message = "At least one of the preconditions you specified did not hold."


class NotModified(TesseraError):
    default_message = "Not Modified"


class InvalidRange(TesseraError):
    default_message = "The requested range cannot be satisfied."


# --- access and symlinks ----------------------------------------------------------------

class AccessDenied(TesseraError):
    default_message = "You have no right to access this object because of bucket acl."


class NotSymlink(TesseraError):
    default_message = "The specified object is not a symlink."


class InvalidTargetType(TesseraError):
    default_message = "The symlink's target object is itself a symlink."


# --- cold objects (restore) -----------------------------------------------------------

class InvalidObjectState(TesseraError):
    default_message = "The operation is not valid for the object's state."


class OperationNotSupported(TesseraError):
    default_message = "The operation is not supported for this resource."


class RestoreAlreadyInProgress(TesseraError):
    default_message = "Object restore is already in progress."


class ArchiveRestoreFileStale(TesseraError):
    default_message = "The archive file or restore info stale."


class ArchiveRestoreNotFinished(TesseraError):
    default_message = "The archive file's restore is not finished."


# --- server side ------------------------------------------------------------------------

class InternalError(TesseraError):
    default_message = "We encountered an internal error. Please try again."


class ServiceUnavailable(TesseraError):
    """A store Tessera depends on (the metadata database, the blob backend) cannot be reached,
    or the connection to it was lost mid-way: nothing was changed that the caller is not told
    about, and the same request may be sent again."""

    default_message = "The service is temporarily unavailable. Please try again."


class DataUnavailable(InternalError):
    """A blob file is missing, or shorter than its metadata says."""

    default_message = "The object's data could not be read. Please try again."


class BlobMissing(DataUnavailable):
    """The file is gone: released by a writer since the metadata was read (readers retry), or lost."""


class BlobDamaged(DataUnavailable):
    """The file is shorter than its metadata says (``tessera admin fsck`` reports it)."""
