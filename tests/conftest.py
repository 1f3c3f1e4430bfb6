"""Fixtures: a real Tessera process per metadata backend, and the official clients pointed at it.

Every end-to-end test runs twice: on the embedded SQLite metadata and on a throwaway
PostgreSQL cluster started from the installed server binaries.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.support.clients import Clients
from tests.support.console import chromium_path
from tests.support.postgres import PostgresCluster
from tests.support.server import TesseraServer

BACKENDS = ["sqlite", "postgresql"]
FIGURES = "reliability figures"  # a user property: one line of a reliability test's figures
_figures: list[str] = []


# The longest modules first: pytest -n hands out whole modules in collection order, so these
# start at once and the suite ends on short ones rather than on a crash loop started last.
LONGEST_FIRST = ("tests/reliability/test_crash_loop.py", "tests/reliability/test_soak.py",
                 "tests/reliability/test_hostile_input.py", "tests/reliability/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                    len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: every other test keeps its order


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        _figures.extend(value for name, value in report.user_properties if name == FIGURES)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if _figures:
        terminalreporter.section(FIGURES)
        for line in _figures:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    with PostgresCluster() as cluster:
        yield cluster


def start_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, backend: str,
                 **options) -> TesseraServer:
    root = tmp_path_factory.mktemp(f"tessera-{backend}")
    url = None
    if backend == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database(root.name.replace("-", "_"))
    server = TesseraServer(root / "data", metadata_url=url, **options)
    server.start()
    return server


@pytest.fixture(scope="module", params=BACKENDS)
def two_workers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """A server of the module's own running ``--workers 2``, per backend."""
    server = start_server(tmp_path_factory, request, request.param, workers=2)
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def crash_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """A server of the test's own, per backend, that the test may kill."""
    server = start_server(tmp_path_factory, request, request.param)
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """A Tessera process shared by the tests of one backend."""
    server = start_server(tmp_path_factory, request, request.param)
    yield server
    server.stop()


@pytest.fixture
def clients(server: TesseraServer) -> Clients:
    return Clients(server)


_names = itertools.count()


@pytest.fixture
def bucket_name(clients: Clients) -> str:
    """A fresh, empty bucket for one test."""
    name = f"t{os.getpid()}-{next(_names)}"
    clients.oss2_bucket(name).create_bucket()
    return name


@pytest.fixture
def data_dir(server: TesseraServer) -> Path:
    return server.data_dir


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium per test module (Debian's package, driven by Playwright, whose sync
    API must not outlive the module: later tests run event loops of their own); the tests that
    need it skip, saying why, only when it cannot be launched."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium on PATH (scripts/install-test-deps installs Debian's chromium)")
    with playwright_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        except Exception as error:  # noqa: BLE001 (any launch failure is the skip's reason)
            pytest.skip(f"chromium at {executable} cannot be launched: {error}")
        yield launched
        launched.close()
