"""Consistency check of metadata against blob files — what the crash tests assert, and what an
operator runs after an incident."""

from __future__ import annotations

from dataclasses import dataclass, field

from tessera.core.storage import Storage
from tessera.meta import blobs as blob_rows
from tessera.meta import part_management as upload_listing


@dataclass
class FsckReport:
    referenced: int = 0
    files: int = 0
    file_bytes: int = 0   # the size of every blob file
    owned_bytes: int = 0  # what metadata says the referenced blobs hold
    problems: list[str] = field(default_factory=list)
    unreferenced_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def fsck(storage: Storage) -> FsckReport:
    """Every blob an object or part refers to must be live and on disk at its size; files
    nothing refers to are listed (the collector reclaims them once they are past the grace). Each
incomplete upload's part counters must match its parts."""
    async with storage.db.read(offloaded=True) as conn:
        referenced = await blob_rows.live_references(conn)
        states = await blob_rows.states(conn)
        miscounted = await upload_listing.counter_mismatches(conn)
    files = {blob.blob_id: blob.size for blob in await storage.blobs.stored()}
    report = FsckReport(referenced=len(referenced), files=len(files))
    report.owned_bytes = sum(referenced.values())
    report.file_bytes = sum(files.values())
    for blob_id, size in sorted(referenced.items()):
        if states.get(blob_id) != blob_rows.LIVE:
            report.problems.append(f"blob {blob_id} is referenced but its row is {states.get(blob_id, 'missing')}")
        if blob_id not in files:
            report.problems.append(f"blob {blob_id} is referenced but its file is missing")
        elif files[blob_id] != size:
            report.problems.append(f"blob {blob_id} should be {size} bytes, its file has {files[blob_id]}")
    for blob_id, state in sorted(states.items()):
        if state == blob_rows.LIVE and blob_id not in referenced:
            report.problems.append(f"blob {blob_id} is live but nothing refers to it (a leak)")
    for wrong in miscounted:
        report.problems.append(
            f"upload {wrong.upload_id} counts {wrong.counted.parts} parts of {wrong.counted.bytes} bytes "
            f"(uploaded byte-ms {wrong.uploaded_byte_ms[0]:.6g}) but holds {wrong.found.parts} of "
            f"{wrong.found.bytes} ({wrong.uploaded_byte_ms[1]:.6g})")
    report.unreferenced_files = sorted(set(files) - set(referenced))
    return report

