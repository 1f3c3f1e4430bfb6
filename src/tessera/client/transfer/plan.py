"""What a copy will do, decided before anything changes: which local files go to which keys, which
objects to which local paths, and which destinations exist already.

Destinations follow ossutil: a destination ending in ``/`` (or an existing local directory)
means *into*; ``-r`` copies what is inside a directory or under a prefix, not the directory
itself; a prefix without a trailing ``/`` is taken as a directory (``oss://b/photos`` copies
``photos/…``, not ``photos2``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import alibabacloud_oss_v2 as oss

from tessera.client.transfer.download import TEMPORARY_SUFFIX
from tessera.client.session import error_code
from tessera.client.urls import OssUrl


class PlanError(ValueError):
    """The copy cannot be done as asked; nothing has been changed."""


@dataclass(frozen=True)
class UploadItem:
    source: Path
    bucket: str
    key: str
    size: int
    mtime: float
    existing_mtime: float | None = None  # the object already at the key, if any

    @property
    def destination(self) -> str:
        return f"oss://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class DownloadItem:
    bucket: str
    key: str
    destination: Path
    size: int
    mtime: float
    existing_mtime: float | None = None  # the local file already at the destination, if any

    @property
    def source(self) -> str:
        return f"oss://{self.bucket}/{self.key}"


@dataclass
class DownloadPlan:
    items: list[DownloadItem]
    directories: list[Path]  # from directory markers (keys ending in "/")


def as_directory(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def plan_upload(client: oss.Client, source: str, destination: OssUrl, *, recursive: bool,
                skip: Path | None = None) -> list[UploadItem]:
    """Local files under ``source`` and their keys; ``skip`` (the checkpoint directory) is left out."""
    path = Path(source)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise PlanError(f"{source}: no such file or directory") from None
    except OSError as error:
        raise PlanError(f"{source}: {error.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        if not recursive:
            raise PlanError(f"{source} is a directory (use -r to copy what is inside it)")
        files = _walk(path, skip)
        prefix = as_directory(destination.key)
        items = [_upload_item(file, destination.bucket, prefix + "/".join(file.relative_to(path).parts))
                 for file in files]
        _mark_existing_objects(client, destination.bucket, prefix, items)
        return items
    key = destination.key + path.name if not destination.key or destination.key.endswith("/") else destination.key
    item = _upload_item(path, destination.bucket, key)
    return [_with_existing_object(client, item)]


def _walk(root: Path, skip: Path | None) -> list[Path]:
    def refuse(error: OSError) -> None:
        raise PlanError(f"{error.filename}: {error.strerror}")

    skipped = skip.resolve() if skip is not None else None
    files: list[Path] = []
    for directory, subdirectories, names in os.walk(root, onerror=refuse):
        here = Path(directory)
        subdirectories[:] = sorted(name for name in subdirectories if (here / name).resolve() != skipped)
        files.extend(here / name for name in sorted(names))
    return files


def _upload_item(path: Path, bucket: str, key: str) -> UploadItem:
    try:
        info = path.stat()
        readable = os.access(path, os.R_OK)
    except OSError as error:
        raise PlanError(f"{path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise PlanError(f"{path} is not a regular file")
    if not readable:
        raise PlanError(f"{path}: permission denied")
    return UploadItem(path, bucket, key, info.st_size, info.st_mtime)


def _with_existing_object(client: oss.Client, item: UploadItem) -> UploadItem:
    try:
        head = client.head_object(oss.HeadObjectRequest(bucket=item.bucket, key=item.key))
    except oss.exceptions.OperationError as error:
        if error_code(error) == "NoSuchKey":
            return item
        raise
    return replace(item, existing_mtime=_timestamp(head.last_modified))


def _mark_existing_objects(client: oss.Client, bucket: str, prefix: str, items: list[UploadItem]) -> None:
    """One listing of the prefix rather than a HeadObject per file."""
    existing = {key: mtime for key, mtime, _, _ in list_objects(client, bucket, prefix)}
    for index, item in enumerate(items):
        if item.key in existing:
            items[index] = replace(item, existing_mtime=existing[item.key])


def plan_download(client: oss.Client, source: OssUrl, destination: str, *, recursive: bool) -> DownloadPlan:
    if not recursive:
        if not source.key or source.key.endswith("/"):
            raise PlanError(f"{source} names a bucket or a prefix (use -r to copy what is under it)")
        head = client.head_object(oss.HeadObjectRequest(bucket=source.bucket, key=source.key))
        target = Path(destination)
        if destination.endswith(("/", os.sep)) or target.is_dir():
            target = target / source.key.rsplit("/", 1)[-1]
        return DownloadPlan([_download_item(source.bucket, source.key, target, head.content_length,
                                            _timestamp(head.last_modified))], [])
    prefix = as_directory(source.key)
    root = Path(destination)
    if root.exists() and not root.is_dir():
        raise PlanError(f"{destination} is not a directory")
    items: list[DownloadItem] = []
    directories: list[Path] = []
    for key, mtime, size, _ in list_objects(client, source.bucket, prefix):
        target = root.joinpath(*_safe_parts(key[len(prefix):], key, root))
        if key.endswith("/"):
            directories.append(target)
        else:
            items.append(_download_item(source.bucket, key, target, size, mtime))
    if not items and not directories:
        raise PlanError(f"nothing under {OssUrl(source.bucket, prefix)}")
    return DownloadPlan(items, directories)


def _safe_parts(relative: str, key: str, root: Path) -> list[str]:
    """The path components for a key below the prefix; keys that would land outside the
    destination directory (``..``, empty or absolute components) are refused."""
    if not relative:
        return []
    parts = relative.rstrip("/").split("/")
    if any(part in ("", ".", "..") or "\0" in part for part in parts):
        raise PlanError(f"refusing key {key!r}: it cannot be written inside {root}")
    return parts


def _download_item(bucket: str, key: str, destination: Path, size: int, mtime: float) -> DownloadItem:
    if destination.is_dir():
        raise PlanError(f"{destination} is a directory; {key!r} cannot be written there")
    if destination.name.endswith(TEMPORARY_SUFFIX):
        raise PlanError(f"refusing key {key!r}: {TEMPORARY_SUFFIX} names are kept for unfinished downloads")
    try:
        existing = destination.stat().st_mtime
    except FileNotFoundError:
        existing = None
    return DownloadItem(bucket, key, destination, size, mtime, existing)


def list_objects(client: oss.Client, bucket: str, prefix: str) -> list[tuple[str, float, int, str]]:
    """(key, last modified, size, ETag) of every object under ``prefix``."""
    found = []
    for page in client.list_objects_v2_paginator().iter_page(oss.ListObjectsV2Request(
            bucket=bucket, prefix=prefix or None, encoding_type="url")):
        for entry in page.contents or []:
            found.append((entry.key, _timestamp(entry.last_modified), entry.size, entry.etag))
    return found


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


