"""The official OSS clients, configured the way the README tells users to."""

from __future__ import annotations

import os
from typing import Callable

import alibabacloud_oss_v2 as oss
import oss2
from oss2.models import PartInfo

from tests.support.server import TesseraServer

REGION = "cn-hangzhou"


class Clients:
    def __init__(self, server: TesseraServer) -> None:
        self.server = server

    def oss2_auth(self, version: str = "v1") -> oss2.Auth:
        if version == "v4":
            return oss2.AuthV4(self.server.access_key_id, self.server.access_key_secret)
        return oss2.Auth(self.server.access_key_id, self.server.access_key_secret)

    def oss2_bucket(self, name: str, version: str = "v1", *, secret: str | None = None) -> oss2.Bucket:
        if secret is not None:
            auth = (oss2.AuthV4 if version == "v4" else oss2.Auth)(self.server.access_key_id, secret)
        else:
            auth = self.oss2_auth(version)
        return oss2.Bucket(auth, self.server.endpoint, name, region=REGION if version == "v4" else None)

    def oss2_service(self, version: str = "v1") -> oss2.Service:
        return oss2.Service(self.oss2_auth(version), self.server.endpoint, region=REGION if version == "v4" else None)

    def v2(self, signature: str = "v4", *, secret: str | None = None) -> oss.Client:
        cfg = oss.config.load_default()
        cfg.endpoint = self.server.endpoint
        cfg.region = REGION
        cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
            self.server.access_key_id, secret if secret is not None else self.server.access_key_secret
        )
        if signature == "v1":
            cfg.signature_version = "v1"
        return oss.Client(cfg)

    def oss2_anonymous(self, name: str) -> oss2.Bucket:
        """An oss2 bucket that signs nothing (``oss2.AnonymousAuth``)."""
        return oss2.Bucket(oss2.AnonymousAuth(), self.server.endpoint, name)

    def v2_anonymous(self) -> oss.Client:
        cfg = oss.config.load_default()
        cfg.endpoint, cfg.region = self.server.endpoint, REGION
        cfg.credentials_provider = oss.credentials.AnonymousCredentialsProvider()
        return oss.Client(cfg)


def multipart_object(bucket: oss2.Bucket, key: str, parts: int, part_size: int) -> bytes:
    """Upload random bytes as a completed multipart object of ``parts`` parts; returns them."""
    upload_id = bucket.init_multipart_upload(key).upload_id
    data = os.urandom(parts * part_size)
    infos = [PartInfo(n + 1, bucket.upload_part(key, upload_id, n + 1, data[n * part_size:(n + 1) * part_size]).etag)
             for n in range(parts)]
    bucket.complete_multipart_upload(key, upload_id, infos)
    return data


def oss_error(call: Callable[[], object]) -> object:
    """The call's result, or the OSS error it raised (a 5xx fails the test at once)."""
    try:
        return call()
    except oss2.exceptions.OssError as error:
        assert error.status < 500, f"{error.status} {error.code}: {error.message}"
        return error
