"""Incomplete upstream multipart uploads under the ``s3://`` backend's prefix: what a gateway
killed in the middle of a long write leaves in the store, found and aborted by the collector
(docs/scale-out.md, "The s3:// backend").

obstore writes and reads the blobs but cannot list multipart uploads, so this part speaks to the
store through botocore, in a worker thread: the collector calls it once per run, a few requests
per upload found. An upload is left alone while its newest part (or, before its first part,
its initiation) is younger than the grace period: a write in progress sends a part every 8 MiB.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tessera.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from tessera.blobs.s3 import S3Location


@dataclass(frozen=True)
class StaleUpload:
    key: str
    upload_id: str


class UpstreamUploads:
    """Lists and aborts the store's multipart uploads under one prefix of the backend's bucket,
    with its endpoint, region, addressing and timeout; credentials come from the environment,
    as for obstore."""

    def __init__(self, location: "S3Location", prefix: str, retries: int) -> None:
        self.location, self.prefix, self.retries = location, prefix, retries
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                s3={"addressing_style": "virtual" if self.location.virtual_hosted else "path"},
                connect_timeout=self.location.timeout_seconds, read_timeout=self.location.timeout_seconds,
                retries={"max_attempts": self.retries + 1, "mode": "standard"})
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.location.endpoint, region_name=self.location.region, config=config)
        return self._client

    async def abort_stale(self, older_than_seconds: float) -> int:
        """Abort every upload under the prefix whose last activity is older than
        ``older_than_seconds``; how many were aborted. A failure of the store is
        ServiceUnavailable (the collector tries again on its next run)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, self._abort_stale, time.time() - older_than_seconds)
        except ServiceUnavailable:
            raise
        except Exception as error:
            raise ServiceUnavailable("The blob store did not answer as expected while listing incomplete "
                                     f"uploads; please try again ({type(error).__name__}).") from error

    def _abort_stale(self, cutoff: float) -> int:
        aborted = 0
        for upload in self._stale(cutoff):
            try:
                self.client().abort_multipart_upload(Bucket=self.location.bucket, Key=upload.key,
                                                     UploadId=upload.upload_id)
            except self.client().exceptions.NoSuchUpload:  # completed, or aborted by another gateway
                continue
            aborted += 1
        return aborted

    def _stale(self, cutoff: float) -> list[StaleUpload]:
        client = self.client()
        stale = []
        pages = client.get_paginator("list_multipart_uploads").paginate(Bucket=self.location.bucket,
                                                                        Prefix=self.prefix)
        for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Initiated"].timestamp() > cutoff:
                    continue
                newest = self._newest_part(upload["Key"], upload["UploadId"])
                if newest is None or newest <= cutoff:
                    stale.append(StaleUpload(upload["Key"], upload["UploadId"]))
        return stale

    def _newest_part(self, key: str, upload_id: str) -> float | None:
        """When the newest part of the upload was sent, or None before its first part."""
        newest = None
        try:
            pages = self.client().get_paginator("list_parts").paginate(
                Bucket=self.location.bucket, Key=key, UploadId=upload_id)
            for page in pages:
                for part in page.get("Parts", []):
                    newest = max(newest or 0.0, part["LastModified"].timestamp())
        except self.client().exceptions.NoSuchUpload:
            return float("inf")  # gone since it was listed: nothing to abort
        return newest
