"""--metadata-url: the PostgreSQL waits it may bound (``timeout=``, ``command_timeout=``) reach the
driver as seconds, and a value that is not a number of seconds is refused in one line."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tessera.core.errors import ServiceUnavailable
from tessera.meta.bad_url import BadMetadataUrl
from tessera.meta.database import Database
from tests.support.postgres import PostgresCluster

MULTI_HOST = "postgresql+asyncpg://tessera@/meta?host=10.0.0.1:5432&host=10.0.0.2:5432&target_session_attrs=primary"


def test_the_rest_of_the_url_reaches_the_driver_untouched() -> None:
    engine = Database(f"{MULTI_HOST}&timeout=2.5&command_timeout=30").engine
    assert "timeout" not in engine.url.query and "command_timeout" not in engine.url.query
    _, arguments = engine.dialect.create_connect_args(engine.url)
    assert arguments["host"] == ["10.0.0.1", "10.0.0.2"] and arguments["port"] == [5432, 5432]
    assert arguments["target_session_attrs"] == "primary"


def test_a_statement_longer_than_command_timeout_is_a_503_in_that_time(postgres_cluster: PostgresCluster) -> None:
    async def sleep_in_the_database() -> float:
        db = Database(postgres_cluster.url() + "?command_timeout=0.5")
        started = time.monotonic()
        try:
            with pytest.raises(ServiceUnavailable):
                async with db.read() as conn:
                    await conn.execute(sa.text("SELECT pg_sleep(5)"))
            async with db.read() as conn:  # and the next transaction is served
                assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
            return time.monotonic() - started
        finally:
            await db.close()

    assert asyncio.run(sleep_in_the_database()) < 3


def test_a_server_that_never_answers_is_a_503_after_timeout() -> None:
    """A listening socket that accepts and says nothing, as a frozen server's kernel does."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+asyncpg://tessera@127.0.0.1:{silent.getsockname()[1]}/meta?timeout=0.5"

        async def connect() -> float:
            db = Database(url)
            started = time.monotonic()
            try:
                with pytest.raises(ServiceUnavailable):
                    async with db.read():
                        pass
                return time.monotonic() - started
            finally:
                await db.close()

        assert asyncio.run(connect()) < 3


@pytest.mark.parametrize("value", ["abc", "0", "-1"])
def test_a_wait_that_is_not_a_number_of_seconds_is_refused(value: str) -> None:
    with pytest.raises(BadMetadataUrl, match="command_timeout is a number of seconds"):
        Database(f"{MULTI_HOST}&command_timeout={value}")


def test_the_command_line_refuses_it_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tessera", "admin", "fsck", "--data-dir", str(tmp_path),
         "--metadata-url", "postgresql+asyncpg://tessera:secret@127.0.0.1:1/meta?timeout=soon"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        "tessera: postgresql+asyncpg://tessera:***@127.0.0.1:1/meta?timeout=soon: timeout is a number of "
        "seconds greater than 0"]
