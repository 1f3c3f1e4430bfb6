"""Uploading one local file: a single PutObject below the threshold, else a multipart upload that
an interrupted run continues.

The SDK's own uploader resumes only the parts after the last contiguous one from part 1; after a
``kill -9`` with several parts in flight there are gaps, and it would send everything after the
first gap again. This one asks the server which parts it holds (ListParts) and keeps every part
whose size and CRC-64 match the local bytes, wherever it is.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import alibabacloud_oss_v2 as oss

from tessera.blobs.checksums import combine_crcs
from tessera.client.transfer.checkpoint import CheckpointStore, UploadCheckpoint
from tessera.client.session import error_code
from tessera.client.transfer.integrity import ChecksumMismatch, span_crc64, span_md5_etag, verify_crc64
from tessera.client.transfer.model import TransferOptions, TransferResult
from tessera.client.transfer.parallel import run_in_parallel
from tessera.client.transfer.progress import Progress
from tessera.client.transfer.reader import SourceChanged, SpanReader
from tessera.client.transfer.sizes import Span, choose_part_size, split


@dataclass(frozen=True)
class SentPart:
    number: int
    etag: str
    crc64: int


def upload_file(client: oss.Client, source: Path, bucket: str, key: str, options: TransferOptions,
                progress: Progress, store: CheckpointStore, cancelled: threading.Event | None = None) -> TransferResult:
    descriptor = os.open(source, os.O_RDONLY)
    try:
        before = os.fstat(descriptor)
        if before.st_size == 0 or before.st_size < options.threshold:
            return _put_whole(client, descriptor, source, bucket, key, options, progress, cancelled)
        return _MultipartUpload(client, descriptor, source, bucket, key, options, progress, store).run()
    finally:
        os.close(descriptor)


def _put_whole(client: oss.Client, descriptor: int, source: Path, bucket: str, key: str,
               options: TransferOptions, progress: Progress, cancelled: threading.Event | None) -> TransferResult:
    before = os.fstat(descriptor)
    reader = SpanReader(descriptor, 0, before.st_size, progress.advance, cancelled)
    result = client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=reader,
                                                    storage_class=options.storage_class))
    destination = f"oss://{bucket}/{key}"
    try:
        if not reader.complete:
            raise ChecksumMismatch(f"the SDK sent {reader.read_to} of {reader.size} bytes of {source}")
        verify_crc64(destination, reader.crc, result.hash_crc64)
        _check_unchanged(descriptor, before, source)
    except (ChecksumMismatch, SourceChanged):
        _delete_quietly(client, bucket, key)  # never leave wrong bytes under the name
        raise
    return TransferResult(str(source), destination, before.st_size, reader.crc, transferred=before.st_size)


class _MultipartUpload:
    def __init__(self, client: oss.Client, descriptor: int, source: Path, bucket: str, key: str,
                 options: TransferOptions, progress: Progress, store: CheckpointStore) -> None:
        self.client = client
        self.descriptor = descriptor
        self.source = source
        self.bucket = bucket
        self.key = key
        self.options = options
        self.progress = progress
        self.store = store
        self.stat = os.fstat(descriptor)
        self.destination = f"oss://{bucket}/{key}"
        self.checkpoint_path = store.path_for("upload", str(source.resolve()), bucket, key)

    def run(self) -> TransferResult:
        checkpoint, on_server = self._resume_or_start()
        spans = split(self.stat.st_size, checkpoint.part_size)
        kept = self._parts_to_keep(spans, on_server)
        missing = [span for span in spans if span.number not in kept]
        parts = dict(kept)
        for part in run_in_parallel(lambda span, cancelled: self._send(checkpoint.upload_id, span, cancelled),
                                    missing, self.options.parallel):
            parts[part.number] = part
        _check_unchanged(self.descriptor, self.stat, self.source)
        completed = self.client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
            bucket=self.bucket, key=self.key, upload_id=checkpoint.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(
                parts=[oss.UploadPart(part_number=n, etag=parts[n].etag) for n in sorted(parts)])))
        whole = combine_crcs((parts[span.number].crc64, span.size) for span in spans)
        try:
            verify_crc64(self.destination, whole, completed.hash_crc64)
        except ChecksumMismatch:
            _delete_quietly(self.client, self.bucket, self.key)
            self.store.remove(self.checkpoint_path)
            raise
        self.store.remove(self.checkpoint_path)
        return TransferResult(str(self.source), self.destination, self.stat.st_size, whole, parts=len(spans),
                              resumed_parts=len(kept), transferred=sum(span.size for span in missing))

    def _resume_or_start(self) -> tuple[UploadCheckpoint, dict[int, oss.Part]]:
        """The recorded upload and the parts the server holds for it, if the file and the
        destination are the same; else a new upload (aborting the recorded one)."""
        checkpoint = self.store.load(self.checkpoint_path, UploadCheckpoint)
        if checkpoint is not None:
            if self._continues(checkpoint):
                try:
                    return checkpoint, self._list_parts(checkpoint.upload_id)
                except oss.exceptions.OperationError as error:
                    if error_code(error) != "NoSuchUpload":
                        raise
            else:
                self._abort_quietly(checkpoint.upload_id)
        part_size = choose_part_size(self.stat.st_size, self.options.part_size)
        initiated = self.client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
            bucket=self.bucket, key=self.key, storage_class=self.options.storage_class))
        checkpoint = UploadCheckpoint(source=str(self.source.resolve()), size=self.stat.st_size,
                                      mtime_ns=self.stat.st_mtime_ns, part_size=part_size, bucket=self.bucket,
                                      key=self.key, storage_class=self.options.storage_class,
                                      upload_id=initiated.upload_id)
        self.store.save(self.checkpoint_path, checkpoint)
        return checkpoint, {}

    def _continues(self, checkpoint: UploadCheckpoint) -> bool:
        return (checkpoint.source, checkpoint.size, checkpoint.mtime_ns, checkpoint.bucket, checkpoint.key,
                checkpoint.storage_class) == (str(self.source.resolve()), self.stat.st_size, self.stat.st_mtime_ns,
                                              self.bucket, self.key, self.options.storage_class)

    def _list_parts(self, upload_id: str) -> dict[int, oss.Part]:
        parts: dict[int, oss.Part] = {}
        for page in self.client.list_parts_paginator().iter_page(oss.ListPartsRequest(
                bucket=self.bucket, key=self.key, upload_id=upload_id)):
            for part in page.parts or []:
                parts[part.part_number] = part
        return parts

    def _parts_to_keep(self, spans: list[Span], on_server: dict[int, oss.Part]) -> dict[int, SentPart]:
        """The parts already on the server whose size, and CRC-64 (or, from a server that lists
        none, MD5 ETag), match the local bytes."""
        kept: dict[int, SentPart] = {}
        for span in spans:
            part = on_server.get(span.number)
            if part is None or part.size != span.size or not part.etag:
                continue
            crc = span_crc64(self.descriptor, span.offset, span.size)
            if part.hash_crc64:
                matches = part.hash_crc64 == str(crc)
            else:
                matches = part.etag.strip('"').upper() == span_md5_etag(self.descriptor, span.offset,
                                                                         span.size).strip('"')
            if matches:
                kept[span.number] = SentPart(span.number, part.etag, crc)
                self.progress.advance(span.size, transferred=False)
        return kept

    def _send(self, upload_id: str, span: Span, cancelled: threading.Event) -> SentPart:
        reader = SpanReader(self.descriptor, span.offset, span.size, self.progress.advance, cancelled)
        result = self.client.upload_part(oss.UploadPartRequest(bucket=self.bucket, key=self.key,
                                                               upload_id=upload_id, part_number=span.number,
                                                               body=reader))
        if not reader.complete:
            raise ChecksumMismatch(f"the SDK sent {reader.read_to} of {span.size} bytes of part {span.number}")
        verify_crc64(f"part {span.number} of {self.destination}", reader.crc, result.hash_crc64)
        return SentPart(span.number, result.etag, reader.crc)

    def _abort_quietly(self, upload_id: str) -> None:
        """The recorded upload cannot be finished (the file changed): free its parts if it is
        still there."""
        try:
            self.client.abort_multipart_upload(oss.AbortMultipartUploadRequest(
                bucket=self.bucket, key=self.key, upload_id=upload_id))
        except oss.exceptions.OperationError as error:
            if error_code(error) != "NoSuchUpload":
                raise


def _check_unchanged(descriptor: int, before: os.stat_result, source: Path) -> None:
    after = os.fstat(descriptor)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise SourceChanged(f"{source} changed while it was being uploaded; run the command again")


def _delete_quietly(client: oss.Client, bucket: str, key: str) -> None:
    try:
        client.delete_object(oss.DeleteObjectRequest(bucket=bucket, key=key))
    except oss.exceptions.OperationError:
        pass
