"""INSERT … ON CONFLICT, in the connection's own dialect (SQLite and PostgreSQL spell it alike,
but SQLAlchemy has one construct per dialect)."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


@functools.cache
def _insert_or_skip(dialect: str, table: sa.Table) -> Any:
    # Built once per table: these are on every write's path, and a statement built once is one
    # SQLAlchemy need not make a cache key for again.
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table).on_conflict_do_nothing()


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An insert into ``table`` that takes ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def insert_or_skip(conn: AsyncConnection, table: sa.Table) -> Any:
    """An insert into ``table`` that does nothing where the row's key is taken; execute it with
    the row's values as parameters (its ``rowcount`` says whether it inserted)."""
    return _insert_or_skip(conn.dialect.name, table)
