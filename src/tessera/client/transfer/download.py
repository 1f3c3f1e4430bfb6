"""Downloading one object into a local file: the bytes go to ``NAME.tessera-download`` beside the
destination, and only a file whose CRC-64 matches the object's is renamed into place.

Below the threshold it is one GetObject. Above it, ranges of the part size are fetched in
parallel (each with ``If-Match``, so an object replaced meanwhile fails instead of mixing two
versions) and a checkpoint records each finished range with its CRC-64; the same command run
again fetches only the ranges not recorded — or recorded but no longer matching the bytes in
the temporary file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import alibabacloud_oss_v2 as oss

from tessera.blobs.checksums import combine_crcs, crc64
from tessera.client.transfer.checkpoint import CheckpointStore, DownloadCheckpoint
from tessera.client.transfer.integrity import ChecksumMismatch, span_crc64, verify_crc64
from tessera.client.transfer.model import TransferOptions, TransferResult
from tessera.client.transfer.parallel import Cancelled, run_in_parallel
from tessera.client.transfer.progress import Progress
from tessera.client.transfer.sizes import Span, choose_part_size, split

TEMPORARY_SUFFIX = ".tessera-download"
BLOCK_SIZE = 1024 * 1024  # bytes asked of the response stream at a time


def temporary_path(destination: Path) -> Path:
    return destination.with_name(destination.name + TEMPORARY_SUFFIX)


def download_file(client: oss.Client, bucket: str, key: str, destination: Path, options: TransferOptions,
                  progress: Progress, store: CheckpointStore,
                  cancelled: threading.Event | None = None) -> TransferResult:
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    destination.parent.mkdir(parents=True, exist_ok=True)
    if head.content_length == 0 or head.content_length < options.threshold:
        return _get_whole(client, bucket, key, head, destination, progress, cancelled)
    return _RangedDownload(client, bucket, key, head, destination, options, progress, store).run()


def _get_whole(client: oss.Client, bucket: str, key: str, head: oss.HeadObjectResult, destination: Path,
               progress: Progress, cancelled: threading.Event | None) -> TransferResult:
    source = f"oss://{bucket}/{key}"
    temporary = temporary_path(destination)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        result = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key, if_match=head.etag))
        crc = _write_stream(result, descriptor, 0, head.content_length, progress, cancelled)
        verify_crc64(source, crc, result.hash_crc64 or head.hash_crc64)
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        temporary.unlink(missing_ok=True)
        raise
    os.close(descriptor)
    os.replace(temporary, destination)
    return TransferResult(source, str(destination), head.content_length, crc, transferred=head.content_length)


class _RangedDownload:
    def __init__(self, client: oss.Client, bucket: str, key: str, head: oss.HeadObjectResult, destination: Path,
                 options: TransferOptions, progress: Progress, store: CheckpointStore) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.head = head
        self.size: int = head.content_length
        self.destination = destination
        self.temporary = temporary_path(destination)
        self.options = options
        self.progress = progress
        self.store = store
        self.source = f"oss://{bucket}/{key}"
        self.checkpoint_path = store.path_for("download", bucket, key, str(destination.resolve()))
        self.lock = threading.Lock()

    def run(self) -> TransferResult:
        checkpoint = self._resume_or_start()
        spans = split(self.size, checkpoint.part_size)
        descriptor = os.open(self.temporary, os.O_RDWR)
        try:
            kept = self._ranges_to_keep(descriptor, spans, checkpoint)
            checkpoint.done = dict(kept)
            missing = [span for span in spans if span.number not in kept]
            crcs = dict(kept)
            for number, crc in run_in_parallel(lambda span, cancelled: self._fetch(descriptor, span, checkpoint,
                                                                                   cancelled),
                                               missing, self.options.parallel):
                crcs[number] = crc
            whole = combine_crcs((crcs[span.number], span.size) for span in spans)
            try:
                verify_crc64(self.source, whole, self.head.hash_crc64)
            except ChecksumMismatch:
                os.close(descriptor)
                descriptor = -1
                self.temporary.unlink(missing_ok=True)  # known bad: the next run starts afresh
                self.store.remove(self.checkpoint_path)
                raise
            os.fsync(descriptor)
        finally:
            if descriptor >= 0:
                os.close(descriptor)
        os.replace(self.temporary, self.destination)
        self.store.remove(self.checkpoint_path)
        return TransferResult(self.source, str(self.destination), self.size, whole, parts=len(spans),
                              resumed_parts=len(kept), transferred=sum(span.size for span in missing))

    def _resume_or_start(self) -> DownloadCheckpoint:
        """The recorded download if the object and the destination are the same ones and the
        temporary file is still there; else a fresh temporary file and checkpoint."""
        checkpoint = self.store.load(self.checkpoint_path, DownloadCheckpoint)
        if checkpoint is not None and self._continues(checkpoint):
            return checkpoint
        if checkpoint is not None:
            Path(checkpoint.temporary).unlink(missing_ok=True)
        with open(self.temporary, "wb") as out:
            out.truncate(self.size)
        checkpoint = DownloadCheckpoint(bucket=self.bucket, key=self.key, etag=self.head.etag, size=self.size,
                                        last_modified=str(self.head.last_modified),
                                        part_size=choose_part_size(self.size, self.options.part_size),
                                        destination=str(self.destination.resolve()), temporary=str(self.temporary))
        self.store.save(self.checkpoint_path, checkpoint)
        return checkpoint

    def _continues(self, checkpoint: DownloadCheckpoint) -> bool:
        same = (checkpoint.etag, checkpoint.size, checkpoint.last_modified, checkpoint.destination,
                checkpoint.temporary) == (self.head.etag, self.size, str(self.head.last_modified),
                                          str(self.destination.resolve()), str(self.temporary))
        try:
            return same and self.temporary.stat().st_size == self.size
        except FileNotFoundError:
            return False

    def _ranges_to_keep(self, descriptor: int, spans: list[Span], checkpoint: DownloadCheckpoint) -> dict[int, int]:
        """Recorded ranges whose bytes in the temporary file still have the recorded CRC-64."""
        kept: dict[int, int] = {}
        for span in spans:
            recorded = checkpoint.done.get(span.number)
            if recorded is not None and span_crc64(descriptor, span.offset, span.size) == recorded:
                kept[span.number] = recorded
                self.progress.advance(span.size, transferred=False)
        return kept

    def _fetch(self, descriptor: int, span: Span, checkpoint: DownloadCheckpoint,
               cancelled: threading.Event) -> tuple[int, int]:
        result = self.client.get_object(oss.GetObjectRequest(
            bucket=self.bucket, key=self.key, if_match=self.head.etag,
            range_header=f"bytes={span.offset}-{span.end - 1}", range_behavior="standard"))
        crc = _write_stream(result, descriptor, span.offset, span.size, self.progress, cancelled)
        os.fdatasync(descriptor)  # the range on disk before it is recorded; the final fsync has less to do
        with self.lock:
            checkpoint.done[span.number] = crc
            # Not fsync'd: a checkpoint lost in a power cut only costs ranges fetched again, and one
            # that survives is checked against the bytes anyway (_ranges_to_keep).
            self.store.save(self.checkpoint_path, checkpoint, durable=False)
        return span.number, crc


def _write_stream(result: oss.GetObjectResult, descriptor: int, offset: int, size: int, progress: Progress,
                  cancelled: threading.Event | None) -> int:
    """Write the response body at ``offset``; the CRC-64 of what was written. It must be exactly
    ``size`` bytes."""
    crc = 0
    written = 0
    with result.body as body:
        for chunk in body.iter_bytes(block_size=BLOCK_SIZE):
            if cancelled is not None and cancelled.is_set():
                raise Cancelled()
            if written + len(chunk) > size:
                raise ChecksumMismatch(f"the server sent more than the {size} bytes asked for")
            view = memoryview(chunk)
            while view:
                count = os.pwrite(descriptor, view, offset + written)
                view = view[count:]
                written += count
            crc = crc64(chunk, crc)
            progress.advance(len(chunk))
    if written != size:
        raise ChecksumMismatch(f"the server sent {written} of {size} bytes")
    return crc
