"""What a bucket or prefix holds, per storage class, counted from listings: objects and their bytes,
and — separately — the parts of incomplete multipart uploads, which are stored and billed until
the upload is completed or aborted."""

from __future__ import annotations

from dataclasses import dataclass, field

import alibabacloud_oss_v2 as oss

from tessera.client.listing import DEFAULT_JOBS, ObjectEntry, iter_objects, iter_uploads, with_part_totals

UNKNOWN_CLASS = "unknown"  # an upload whose ListParts answer names no storage class


@dataclass
class ClassUsage:
    objects: int = 0
    object_bytes: int = 0
    uploads: int = 0
    parts: int = 0
    part_bytes: int = 0

    @property
    def stored_bytes(self) -> int:
        return self.object_bytes + self.part_bytes

    def add(self, other: ClassUsage) -> None:
        self.objects += other.objects
        self.object_bytes += other.object_bytes
        self.uploads += other.uploads
        self.parts += other.parts
        self.part_bytes += other.part_bytes


@dataclass
class Usage:
    by_class: dict[str, ClassUsage] = field(default_factory=dict)

    def of(self, storage_class: str | None) -> ClassUsage:
        return self.by_class.setdefault(storage_class or UNKNOWN_CLASS, ClassUsage())

    @property
    def total(self) -> ClassUsage:
        total = ClassUsage()
        for usage in self.by_class.values():
            total.add(usage)
        return total


def measure(client: oss.Client, bucket: str, prefix: str = "", *, jobs: int = DEFAULT_JOBS) -> Usage:
    """List every object and every incomplete upload under ``prefix`` (ListParts for each upload,
    ``jobs`` at a time) and add them up per storage class."""
    usage = Usage()
    for entry in iter_objects(client, bucket, prefix):
        assert isinstance(entry, ObjectEntry)  # an undelimited listing has no directories
        counted = usage.of(entry.storage_class)
        counted.objects += 1
        counted.object_bytes += entry.size
    for upload in with_part_totals(client, bucket, iter_uploads(client, bucket, prefix), jobs=jobs):
        assert upload.parts is not None
        counted = usage.of(upload.parts.storage_class)
        counted.uploads += 1
        counted.parts += upload.parts.count
        counted.part_bytes += upload.parts.size
    return usage
