"""Filling a bucket quickly through the v2 SDK: many objects and incomplete uploads at once, and the
figures GetBucketStat keeps about them."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable

import alibabacloud_oss_v2 as oss

from tests.support import raw
from tests.support.server import TesseraServer

THREADS = 16


@dataclass(frozen=True)
class Upload:
    key: str
    upload_id: str
    part_sizes: tuple[int, ...]

    @property
    def size(self) -> int:
        return sum(self.part_sizes)


def put_objects(client: oss.Client, bucket: str, objects: dict[str, bytes], storage_class: str | None = None) -> None:
    def put(item: tuple[str, bytes]) -> None:
        client.put_object(oss.PutObjectRequest(bucket=bucket, key=item[0], body=item[1], storage_class=storage_class))

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(put, objects.items()))


def start_uploads(client: oss.Client, bucket: str, keys: Iterable[str], part_sizes: tuple[int, ...] = (),
                  storage_class: str | None = None) -> list[Upload]:
    """One incomplete upload per key (a key may repeat), each with parts of the given sizes."""

    def start(key: str) -> Upload:
        upload_id = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
            bucket=bucket, key=key, storage_class=storage_class)).upload_id
        for number, size in enumerate(part_sizes, start=1):
            client.upload_part(oss.UploadPartRequest(bucket=bucket, key=key, upload_id=upload_id,
                                                     part_number=number, body=b"p" * size))
        return Upload(key, upload_id, part_sizes)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(start, keys))


def listed_uploads(client: oss.Client, bucket: str, prefix: str = "") -> list[tuple[str, str]]:
    """(key, upload ID) of every incomplete upload, as the SDK's paginator lists them."""
    request = oss.ListMultipartUploadsRequest(bucket=bucket, prefix=prefix or None)
    return [(upload.key, upload.upload_id)
            for page in client.list_multipart_uploads_paginator().iter_page(request) for upload in page.uploads or []]


def listed_keys(client: oss.Client, bucket: str, prefix: str = "") -> list[str]:
    request = oss.ListObjectsV2Request(bucket=bucket, prefix=prefix or None)
    return [item.key for page in client.list_objects_v2_paginator().iter_page(request) for item in page.contents or []]


def bucket_stat(server: TesseraServer, bucket: str) -> dict[str, int]:
    """Every number of the raw BucketStat document (the SDKs model only some)."""
    body = raw.request(server, "GET", bucket, query={"stat": ""}).body.decode()
    return {name: int(value) for name, value in re.findall(r"<(\w+)>(\d+)</\1>", body)}
