"""How the listing and removal commands show things: times in UTC, sizes exact and readable,
counts in words, and the JSON forms of the listed entries."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from tessera.cli.client.common import human_size
from tessera.client.listing import BucketEntry, DirectoryEntry, ObjectEntry, PartEntry, UploadEntry
from tessera.client.urls import OssUrl


def utc_text(when: datetime.datetime | None) -> str:
    if when is None:
        return "-"
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def iso(when: datetime.datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.isoformat()


def size_text(size: int) -> str:
    return f"{human_size(size)} ({size} bytes)"


def counted(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def bucket_json(entry: BucketEntry) -> dict[str, Any]:
    return {"name": entry.name, "url": str(OssUrl(entry.name)), "location": entry.location,
            "storage_class": entry.storage_class, "creation_date": iso(entry.creation_date)}


def object_json(bucket: str, entry: ObjectEntry) -> dict[str, Any]:
    return {"key": entry.key, "url": str(OssUrl(bucket, entry.key)), "size": entry.size,
            "storage_class": entry.storage_class, "etag": entry.etag, "last_modified": iso(entry.last_modified),
            "type": entry.object_type}


def directory_json(bucket: str, entry: DirectoryEntry) -> dict[str, Any]:
    return {"prefix": entry.prefix, "url": str(OssUrl(bucket, entry.prefix))}


def upload_json(bucket: str, upload: UploadEntry) -> dict[str, Any]:
    shown: dict[str, Any] = {"key": upload.key, "url": str(OssUrl(bucket, upload.key)), "upload_id": upload.upload_id,
                             "initiated": iso(upload.initiated)}
    if upload.parts is not None:
        shown.update(storage_class=upload.parts.storage_class, parts=upload.parts.count, size=upload.parts.size)
    return shown


def part_json(part: PartEntry) -> dict[str, Any]:
    return {"part_number": part.part_number, "size": part.size, "etag": part.etag,
            "last_modified": iso(part.last_modified), "crc64": part.crc64}


class Lines:
    """Prints a header before the first line, so a listing that is empty, or fails before its
    first answer, shows no header."""

    def __init__(self, header: str | None) -> None:
        self.header = header

    def print(self, line: object) -> None:
        if self.header is not None:
            print(self.header)
            self.header = None
        print(line)
