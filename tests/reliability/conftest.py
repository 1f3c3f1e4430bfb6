"""The reliability suite: every test here is marked ``reliability`` (run it alone with
``scripts/test -m reliability``) and runs against each server configuration a team deploys —
SQLite and PostgreSQL metadata, one and two workers. Each test ends with a one-line summary of
its figures, printed after the test session."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.conftest import FIGURES, start_server
from tests.reliability.knobs import knob
from tests.support.server import TesseraServer

CONFIGURATIONS = [("sqlite", 1), ("sqlite", 2), ("postgresql", 1), ("postgresql", 2)]
# Seconds one test may take before pytest-timeout stops it: long runs need far more than CI's.
TIMEOUT = knob("TEST_TIMEOUT", ci=600, long=6 * 3600)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in item.nodeid:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.timeout(TIMEOUT))


@pytest.fixture
def summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record the one-line summary of a test's figures (printed at the end of the session, by
    tests/conftest.py; it travels in the test's report, so ``pytest -n`` keeps it too)."""

    def record(line: str) -> None:
        request.node.user_properties.append((FIGURES, f"{request.node.name}: {line}"))

    return record


@pytest.fixture(params=CONFIGURATIONS, ids=lambda c: f"{c[0]}-w{c[1]}")
def configured_server(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """A fresh server of one configuration, for one test."""
    backend, workers = request.param
    server = start_server(tmp_path_factory, request, backend, workers=workers)
    yield server
    server.stop()
