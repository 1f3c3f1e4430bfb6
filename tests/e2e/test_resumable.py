"""oss2's resumable_upload, interrupted and resumed; and resumable_download."""

from __future__ import annotations

import os
from pathlib import Path

import oss2
import pytest

from tests.support.clients import Clients

PART = 100 * 1024


def test_resumable_upload_interrupted_then_resumed(clients: Clients, bucket_name: str, tmp_path: Path) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(6 * PART + 99))
    store = oss2.ResumableStore(root=str(tmp_path / "store"))
    sent: list[int] = []
    real_upload_part = bucket.upload_part

    def failing_after_three(key, upload_id, part_number, data, *args, **kwargs):
        if len(sent) >= 3:
            raise ConnectionError("network went away")
        sent.append(part_number)
        return real_upload_part(key, upload_id, part_number, data, *args, **kwargs)

    bucket.upload_part = failing_after_three  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        oss2.resumable_upload(bucket, "big.bin", str(source), store=store, multipart_threshold=PART,
                              part_size=PART, num_threads=1)
    uploads = list(oss2.MultipartUploadIterator(bucket))
    assert len(uploads) == 1

    resumed: list[int] = []

    def recording(key, upload_id, part_number, data, *args, **kwargs):
        resumed.append(part_number)
        return real_upload_part(key, upload_id, part_number, data, *args, **kwargs)

    bucket.upload_part = recording  # type: ignore[method-assign]
    oss2.resumable_upload(bucket, "big.bin", str(source), store=store, multipart_threshold=PART, part_size=PART,
                          num_threads=1)
    assert resumed == [4, 5, 6, 7]
    assert bucket.get_object("big.bin").read() == source.read_bytes()
    assert list(oss2.MultipartUploadIterator(bucket)) == []

    target = tmp_path / "back.bin"
    oss2.resumable_download(bucket, "big.bin", str(target), multiget_threshold=PART, part_size=PART,
                            num_threads=2, store=oss2.ResumableDownloadStore(root=str(tmp_path / "dstore")))
    assert target.read_bytes() == source.read_bytes()
