"""A read transaction sees one snapshot on both engines: an object's row and its parts' rows
read in one transaction belong to the same version, whatever commits in between (on PostgreSQL's
default READ COMMITTED a reader once saw a multipart object with none of its parts, and copied
it as an empty object)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import pytest
import sqlalchemy as sa

from tessera.blobs.files import FileBlobs
from tessera.core import buckets, multipart, objects
from tessera.core.models import ObjectAttributes, PartChoice
from tessera.core.storage import Storage
from tessera.meta import objects as object_rows
from tessera.meta.database import Database
from tessera.meta.migrate import upgrade
from tessera.meta.schema import objects as objects_table
from tests.support.postgres import fresh_metadata_url


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _multipart(storage: Storage, key: str, data: bytes) -> None:
    upload = await multipart.initiate_upload(storage, "snap", key, ObjectAttributes(), initiator="t")
    part = await multipart.upload_part(storage, "snap", key, upload.upload_id, 1, _body(data), size=len(data),
                                       content_md5=None)
    await multipart.complete_upload(storage, "snap", key, upload.upload_id, [PartChoice(1, part.etag)])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_read_sees_one_version_of_an_object_and_its_parts(backend: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    url = fresh_metadata_url(backend, tmp_path, request, "snapshot")

    async def main() -> None:
        db = Database(url)
        await upgrade(db)
        storage = Storage(db, FileBlobs(tmp_path))
        try:
            await buckets.create_bucket(storage, "snap", owner="tester")
            await _multipart(storage, "k", b"first version")
            async with db.read() as conn:
                bucket_id = (await conn.execute(sa.select(objects_table.c.bucket_id))).scalar_one()
                info = await object_rows.find(conn, bucket_id, "snap", "k")
                assert info is not None and info.upload_id
                # Another request replaces the object, dropping the old version's part rows.
                await _multipart(storage, "k", b"second version, longer")
                parts = await object_rows.parts_of(conn, info.upload_id)
            assert sum(p.size for p in parts) == info.size == len(b"first version")
            assert (await objects.object_info(storage, "snap", "k")).size == len(b"second version, longer")
        finally:
            await storage.drain()
            await db.close()

    asyncio.run(main())
