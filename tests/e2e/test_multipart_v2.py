"""The multipart stories again, through alibabacloud-oss-v2 with signature V4 and V1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import alibabacloud_oss_v2 as oss
import pytest

from tests.support.clients import Clients

PART = 100 * 1024


@pytest.fixture(params=["v4", "v1"])
def client(request: pytest.FixtureRequest, clients: Clients) -> oss.Client:
    return clients.v2(request.param)


def service_error(excinfo: pytest.ExceptionInfo) -> oss.exceptions.ServiceError:
    error = excinfo.value
    return error.unwrap() if hasattr(error, "unwrap") else error


def test_initiate_upload_complete_and_read_back(client: oss.Client, bucket_name: str, tmp_path: Path) -> None:
    key = "dir one/sub+dir/文件 #1.txt"
    init = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=bucket_name, key=key))
    chunks = [os.urandom(PART), os.urandom(1234)]
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        result = client.upload_part(oss.UploadPartRequest(
            bucket=bucket_name, key=key, upload_id=init.upload_id, part_number=number, body=chunk))
        parts.append(oss.UploadPart(part_number=number, etag=result.etag))
    done = client.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=bucket_name, key=key, upload_id=init.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts)))
    assert done.etag.strip('"').endswith("-2")
    assert done.key == key
    target = tmp_path / "out.bin"
    client.get_object_to_file(oss.GetObjectRequest(bucket=bucket_name, key=key), str(target))  # checks CRC
    assert target.read_bytes() == b"".join(chunks)
    ranged = tmp_path / "range.bin"
    client.get_object_to_file(oss.GetObjectRequest(bucket=bucket_name, key=key, range_header="bytes=10-99"),
                              str(ranged))
    assert ranged.read_bytes() == b"".join(chunks)[10:100]


def test_abort_then_no_such_upload_everywhere(client: oss.Client, bucket_name: str) -> None:
    key = "abort-me"
    init = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=bucket_name, key=key))
    client.upload_part(oss.UploadPartRequest(bucket=bucket_name, key=key, upload_id=init.upload_id,
                                             part_number=1, body=b"data"))
    client.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=bucket_name, key=key,
                                                                  upload_id=init.upload_id))
    with pytest.raises(oss.exceptions.OperationError) as listed:
        client.list_parts(oss.ListPartsRequest(bucket=bucket_name, key=key, upload_id=init.upload_id))
    error = service_error(listed)
    assert (error.status_code, error.code) == (404, "NoSuchUpload")
    assert error.request_id


def test_paginators_walk_uploads_and_parts(client: oss.Client, bucket_name: str) -> None:
    keys = [f"logs/{i:02d} x" for i in range(5)]
    uploads = {k: client.initiate_multipart_upload(
        oss.InitiateMultipartUploadRequest(bucket=bucket_name, key=k)).upload_id for k in keys}
    seen = []
    for page in client.list_multipart_uploads_paginator(limit=2).iter_page(
            oss.ListMultipartUploadsRequest(bucket=bucket_name, prefix="logs/")):
        seen.extend((u.key, u.upload_id) for u in page.uploads)
    assert seen == [(k, uploads[k]) for k in keys]
    key = keys[0]
    for number in range(1, 6):
        client.upload_part(oss.UploadPartRequest(bucket=bucket_name, key=key, upload_id=uploads[key],
                                                 part_number=number, body=b"p" * number))
    numbers, crcs = [], []
    for page in client.list_parts_paginator(limit=2).iter_page(
            oss.ListPartsRequest(bucket=bucket_name, key=key, upload_id=uploads[key])):
        numbers.extend(p.part_number for p in page.parts)
        crcs.extend(p.hash_crc64 for p in page.parts)
    assert numbers == [1, 2, 3, 4, 5]
    assert all(c and c.isdigit() for c in crcs)


CRASHING_UPLOADER = """
import os, sys
import alibabacloud_oss_v2 as oss
endpoint, ak, sk, signature, bucket, key, source, checkpoints = sys.argv[1:]
cfg = oss.config.load_default()
cfg.endpoint, cfg.region = endpoint, "cn-hangzhou"
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, sk)
if signature == "v1":
    cfg.signature_version = "v1"
client = oss.Client(cfg)
real_upload_part, calls = client.upload_part, []
def upload_part(request, **kwargs):
    if len(calls) == 3:
        os._exit(17)  # the process dies here, as with kill -9: parts and checkpoint stay behind
    calls.append(request.part_number)
    return real_upload_part(request, **kwargs)
client.upload_part = upload_part
client.uploader(part_size=%d, parallel_num=1, enable_checkpoint=True, checkpoint_dir=checkpoints).upload_file(
    oss.PutObjectRequest(bucket=bucket, key=key), filepath=source)
""" % PART


@pytest.mark.parametrize("signature", ["v4", "v1"])
def test_uploader_resumes_from_checkpoint(signature: str, clients: Clients, bucket_name: str, tmp_path: Path) -> None:
    client = clients.v2(signature)
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(5 * PART + 123))
    # The SDK keeps only os.path.dirname(checkpoint_dir): the trailing slash matters.
    checkpoints = tmp_path / "cp"
    checkpoints.mkdir()
    key = "resumed.bin"
    server = clients.server
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_UPLOADER, server.endpoint, server.access_key_id, server.access_key_secret,
         signature, bucket_name, key, str(source), f"{checkpoints}/"],
        capture_output=True, text=True, timeout=60,
    )
    assert crashed.returncode == 17, crashed.stderr
    assert list(checkpoints.iterdir()), "the uploader should have left a checkpoint"

    sent: list[int] = []
    real_upload_part = client.upload_part

    def counting_upload_part(request, **kwargs):
        sent.append(request.part_number)
        return real_upload_part(request, **kwargs)

    client.upload_part = counting_upload_part  # type: ignore[method-assign]
    uploader = client.uploader(part_size=PART, parallel_num=1, enable_checkpoint=True,
                               checkpoint_dir=f"{checkpoints}/")
    uploader.upload_file(oss.PutObjectRequest(bucket=bucket_name, key=key), filepath=str(source))
    assert sent == [4, 5, 6]  # resumed after the three parts ListParts reported; combined CRC checked
    target = tmp_path / "back.bin"
    client.get_object_to_file(oss.GetObjectRequest(bucket=bucket_name, key=key), str(target))
    assert target.read_bytes() == source.read_bytes()


def test_bucket_exists_and_info(client: oss.Client, bucket_name: str) -> None:
    assert client.is_bucket_exist(bucket_name)
    assert not client.is_bucket_exist("no-such-bucket-here")
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=bucket_name))
    assert info.bucket_info.name == bucket_name
    location = client.get_bucket_location(oss.GetBucketLocationRequest(bucket=bucket_name))
    assert location.location == "oss-cn-hangzhou"
