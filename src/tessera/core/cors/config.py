"""PutBucketCors, GetBucketCors, DeleteBucketCors, and the rules a browser's request is judged by."""

from __future__ import annotations

from tessera.core.cors.rules import CorsConfiguration, check_configuration
from tessera.core.errors import NoSuchCORSConfiguration
from tessera.core.storage import Storage
from tessera.meta import buckets as bucket_rows
from tessera.meta import cors as cors_rows


async def put_cors(storage: Storage, bucket_name: str, config: CorsConfiguration) -> None:
    """Replace the bucket's rules with ``config`` (PutBucketCors overwrites, it never merges)."""
    check_configuration(config)
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        await cors_rows.store(conn, bucket.bucket_id, config, storage.clock())


async def get_cors(storage: Storage, bucket_name: str) -> CorsConfiguration:
    async with storage.db.read() as conn:
        bucket = await bucket_rows.get(conn, bucket_name)
        config = await cors_rows.find(conn, bucket.bucket_id)
    if config is None:
        raise NoSuchCORSConfiguration(BucketName=bucket_name)
    return config


async def delete_cors(storage: Storage, bucket_name: str) -> None:
    """Remove the bucket's rules; a bucket without any is not an error."""
    async with storage.db.write() as conn:
        bucket = await bucket_rows.get(conn, bucket_name, lock="share")
        await cors_rows.delete(conn, bucket.bucket_id)


async def find_cors(storage: Storage, bucket_name: str) -> CorsConfiguration | None:
    """The rules a browser's request to ``bucket_name`` is judged by; None when the bucket has
    none (or does not exist: the request itself then answers NoSuchBucket)."""
    async with storage.db.read() as conn:
        bucket = await bucket_rows.find(conn, bucket_name)
        return await cors_rows.find(conn, bucket.bucket_id) if bucket is not None else None
