"""Choosing the blob backend from ``--blobs URL`` (docs/scale-out.md).

``file://DIR`` (the default: ``file://`` + the data directory) keeps each blob as a file under
DIR; DIR may be a shared POSIX filesystem mounted on every gateway. ``s3://BUCKET/PREFIX`` keeps
each blob as an object of an S3-compatible store (``?endpoint=``, ``region=``, ``addressing=``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from tessera.blobs.backend import BlobBackend


class BadBlobsUrl(ValueError):
    """A --blobs URL Tessera cannot use; the message says why."""


def default_blobs_url(data_dir: Path) -> str:
    return f"file://{data_dir.resolve()}"


def open_blobs(url: str) -> BlobBackend:
    """The backend ``url`` names, ready to use (directories created)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise BadBlobsUrl(f"{url}: a file:// URL names a local directory (file:///path), not a host")
        if parts.query or parts.fragment:
            raise BadBlobsUrl(f"{url}: file:// takes no options")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise BadBlobsUrl(f"{url}: give an absolute directory, as in file:///srv/tessera")
        from tessera.blobs.files import FileBlobs

        return FileBlobs(Path(path))
    if parts.scheme == "s3":
        from tessera.blobs.s3 import BadS3Url, S3Blobs, S3Location

        try:
            return S3Blobs(S3Location.parse(url))
        except BadS3Url as bad:
            raise BadBlobsUrl(str(bad)) from None
    raise BadBlobsUrl(f"{url}: unknown blob backend {parts.scheme!r}; Tessera knows file://DIR and "
                      "s3://BUCKET/PREFIX?endpoint=URL")
