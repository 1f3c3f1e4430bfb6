"""The Alembic migrations build exactly the schema ``tessera.meta.schema`` declares, on both
engines — so a column or index added to one and forgotten in the other fails here."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from tessera.meta.database import Database, sqlite_url
from tessera.meta.migrate import upgrade
from tessera.meta.schema import metadata
from tests.support.postgres import PostgresCluster


def _differences(url: str) -> list:
    async def check() -> list:
        db = Database(url)
        try:
            await upgrade(db)

            def compare(connection: Connection) -> list:
                return compare_metadata(MigrationContext.configure(connection), metadata)

            async with db.engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await db.close()

    return asyncio.run(check())


@pytest.mark.filterwarnings("ignore:.*expression-based index")  # SQLite cannot reflect them: checked below
def test_sqlite_migrations_match_the_schema(tmp_path: Path) -> None:
    assert _differences(sqlite_url(tmp_path)) == []
    # SQLite cannot reflect expression indexes, so the comparison skips this one: check it is there.
    with sqlite3.connect(tmp_path / "metadata.sqlite3") as db:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_uploads_active_age'").fetchone()[0]
    assert "coalesce(last_part_ms, initiated_ms)" in sql and "state = 'active'" in sql


def test_postgresql_migrations_match_the_schema(postgres_cluster: PostgresCluster) -> None:
    assert _differences(postgres_cluster.create_database("migrations_check")) == []
