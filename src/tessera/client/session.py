"""The SDK client for some settings, and errors told in one line."""

from __future__ import annotations

from urllib.parse import urlsplit

import alibabacloud_oss_v2 as oss

from tessera.client.settings import Settings


def make_client(settings: Settings, *, sdk_checks_uploads: bool = True) -> oss.Client:
    """``sdk_checks_uploads=False`` skips the SDK's own CRC-64 pass over upload bodies (crcmod,
    ~400 MiB/s holding the GIL), for callers that compute and compare the CRC themselves."""
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(settings.access_key_id,
                                                                          settings.access_key_secret)
    cfg.region = settings.region
    cfg.endpoint = settings.endpoint
    cfg.signature_version = settings.signature_version
    cfg.disable_upload_crc64_check = not sdk_checks_uploads
    if settings.addressing_style == "path" or (settings.addressing_style == "auto" and _is_local(settings.endpoint)):
        cfg.use_path_style = True
    return oss.Client(cfg)


def _is_local(endpoint: str) -> bool:
    """A server on this machine has no DNS name per bucket: path-style requests reach it."""
    host = urlsplit(endpoint if "://" in endpoint else "http://" + endpoint).hostname or ""
    return host == "localhost" or host.endswith(".localhost")


def _innermost(error: BaseException) -> BaseException:
    """The error inside the SDK's OperationError wrappers."""
    while isinstance(error, oss.exceptions.OperationError):
        error = error.unwrap()
    return error


def service_error(error: BaseException) -> oss.exceptions.ServiceError | None:
    """The server's answer (code, status, request ID) that ``error`` carries, if any."""
    detail = _innermost(error)
    return detail if isinstance(detail, oss.exceptions.ServiceError) else None


def error_code(error: BaseException) -> str | None:
    """The OSS error code inside an SDK exception, if the service answered with one."""
    found = service_error(error)
    return found.code if found is not None else None


def describe_error(error: BaseException) -> str:
    """One line: the OSS error code, what it says, the status and request ID."""
    detail = _innermost(error)
    if isinstance(detail, oss.exceptions.ServiceError):
        message = (detail.message or "").rstrip(".")
        return f"{detail.code}: {message} (status {detail.status_code}, request ID {detail.request_id})"
    cause = detail.__cause__ or detail.__context__
    text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
    if cause is not None and isinstance(detail, oss.exceptions.BaseError) and str(cause).strip():
        text += f": {str(cause).strip().splitlines()[0]}"
    return text
