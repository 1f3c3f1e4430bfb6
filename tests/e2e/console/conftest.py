"""Fixtures for the web console: a server of the console tests' own (SQLite: the console's
storage paths are the core's, which every other suite runs on both backends), a signed-in HTTP
session, and a real headless Chromium (Debian's package, driven by Playwright) signed in."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import start_server
from tests.support.clients import Clients
from tests.support.console import ConsoleApi, ConsoleBrowser
from tests.support.server import TesseraServer


@pytest.fixture(scope="session")
def console_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    server = start_server(tmp_path_factory, request, "sqlite")
    yield server
    server.stop()


@pytest.fixture
def console_clients(console_server: TesseraServer) -> Clients:
    return Clients(console_server)


@pytest.fixture
def console_api(console_server: TesseraServer) -> ConsoleApi:
    api = ConsoleApi(console_server)
    assert api.sign_in().status_code == 200
    return api


@pytest.fixture(scope="module")
def signed_in_state(browser: Any, console_server: TesseraServer) -> dict[str, Any]:
    """The cookies of one sign-in through the form as the root key, shared by a module's tests
    (a sign-in is a real request with a redirect: once per module is enough)."""
    context = browser.new_context()
    ConsoleBrowser(console_server, context, "sign-in").sign_in()
    state = context.storage_state()
    context.close()
    assert any(c["name"] == "tessera_console" for c in state["cookies"]), state
    return state


@pytest.fixture
def console(browser: Any, console_server: TesseraServer, signed_in_state: dict[str, Any],
            request: pytest.FixtureRequest) -> Iterator[ConsoleBrowser]:
    """A fresh browser context signed in as the root key. The test fails if a page logged a
    script error (a CSP violation included)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, storage_state=signed_in_state)
    opened = ConsoleBrowser(console_server, context, request.node.name)
    yield opened
    errors = list(opened.console_errors)
    context.close()
    assert not errors, f"the console logged errors: {errors}"
