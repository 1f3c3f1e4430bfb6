"""CORS configurations in the metadata store: the rules as JSON, one row a bucket."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.core.cors.rules import CorsConfiguration, CorsRule
from tessera.meta.conflicts import dialect_insert
from tessera.meta.schema import bucket_cors


async def find(conn: AsyncConnection, bucket_id: int) -> CorsConfiguration | None:
    row = (await conn.execute(
        sa.select(bucket_cors.c.rules, bucket_cors.c.response_vary).where(bucket_cors.c.bucket_id == bucket_id)
    )).first()
    if row is None:
        return None
    return CorsConfiguration(tuple(_rule(r) for r in row.rules), response_vary=bool(row.response_vary))


async def store(conn: AsyncConnection, bucket_id: int, config: CorsConfiguration, now_ms: int) -> None:
    """Insert or replace the bucket's row in one statement (as ``meta.lifecycle.store``)."""
    values = {"rules": [_columns(r) for r in config.rules], "response_vary": config.response_vary,
              "updated_ms": now_ms}
    await conn.execute(dialect_insert(conn, bucket_cors).values(bucket_id=bucket_id, **values)
                       .on_conflict_do_update(index_elements=["bucket_id"], set_=values))


async def delete(conn: AsyncConnection, bucket_id: int) -> None:
    await conn.execute(sa.delete(bucket_cors).where(bucket_cors.c.bucket_id == bucket_id))


def _columns(rule: CorsRule) -> dict[str, Any]:
    return {"allowed_origins": list(rule.allowed_origins), "allowed_methods": list(rule.allowed_methods),
            "allowed_headers": list(rule.allowed_headers), "expose_headers": list(rule.expose_headers),
            "max_age_seconds": rule.max_age_seconds}


def _rule(data: dict[str, Any]) -> CorsRule:
    return CorsRule(
        allowed_origins=tuple(data["allowed_origins"]), allowed_methods=tuple(data["allowed_methods"]),
        allowed_headers=tuple(data["allowed_headers"]), expose_headers=tuple(data["expose_headers"]),
        max_age_seconds=data["max_age_seconds"],
    )
