"""Bring a metadata database to the newest schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from tessera.meta.database import Database
from tessera.meta.locks import hold_until_commit

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database) -> None:
    """Apply every migration not yet applied (safe to call at every start, and from several
    gateways at once: the first applies them while the others wait, then find nothing to do)."""

    def run(connection: Connection) -> None:
        command.upgrade(_alembic_config(connection), "head")

    async with db.engine.begin() as conn:
        await hold_until_commit(conn, "migrations")
        await conn.run_sync(run)
