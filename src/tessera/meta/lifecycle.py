"""Lifecycle configurations in the metadata store: normalized rules as JSON, one row a bucket."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.lifecycle.rules import (
    AbortMultipartUpload,
    Configuration,
    Exclusion,
    Expiration,
    Filter,
    NoncurrentExpiration,
    NoncurrentTransition,
    Rule,
    Tag,
    Transition,
)
from tessera.meta.schema import bucket_lifecycle


async def find(conn: AsyncConnection, bucket_id: int) -> Configuration | None:
    row = (
        await conn.execute(sa.select(bucket_lifecycle.c.rules).where(bucket_lifecycle.c.bucket_id == bucket_id))
    ).first()
    return Configuration(tuple(_rule(r) for r in row.rules)) if row else None


async def store(conn: AsyncConnection, bucket_id: int, config: Configuration, now_ms: int) -> None:
    await delete(conn, bucket_id)
    await conn.execute(
        sa.insert(bucket_lifecycle).values(
            bucket_id=bucket_id, rules=[dataclasses.asdict(r) for r in config.rules], updated_ms=now_ms
        )
    )


async def delete(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(sa.delete(bucket_lifecycle).where(bucket_lifecycle.c.bucket_id == bucket_id))


def _rule(data: dict[str, Any]) -> Rule:
    def optional(cls: type, value: dict[str, Any] | None) -> Any:
        return cls(**value) if value is not None else None

    def tag(value: dict[str, Any] | None) -> Tag | None:
        return Tag(**value) if value is not None else None

    stored_filter = data["filter"]
    return Rule(
        id=data["id"],
        prefix=data["prefix"],
        enabled=data["enabled"],
        expiration=optional(Expiration, data["expiration"]),
        abort_multipart_upload=optional(AbortMultipartUpload, data["abort_multipart_upload"]),
        transitions=tuple(Transition(**t) for t in data["transitions"]),
        tags=tuple(Tag(**t) for t in data["tags"]),
        filter=None if stored_filter is None else Filter(
            size_greater_than=stored_filter["size_greater_than"],
            size_less_than=stored_filter["size_less_than"],
            exclusions=tuple(Exclusion(e["prefix"], tag(e["tag"])) for e in stored_filter["exclusions"]),
        ),
        noncurrent_expiration=optional(NoncurrentExpiration, data["noncurrent_expiration"]),
        noncurrent_transitions=tuple(NoncurrentTransition(**t) for t in data["noncurrent_transitions"]),
        atime_base=data["atime_base"],
    )
