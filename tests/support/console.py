"""Driving the web console: over HTTP with a signed-in session (``ConsoleApi``), and in a real
headless Chromium (``ConsoleBrowser``, through Playwright)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import requests

from tests.support.server import TesseraServer

ARTIFACTS = Path(os.environ.get("TESSERA_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
SIGNIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
EXPECTED_REFUSAL = "Failed to load resource: the server responded with a status of 4"
PAGE_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


def chromium_path() -> str | None:
    return os.environ.get("TESSERA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class ConsoleApi:
    """A requests session signed in to the console; paths are relative to ``/-/console``."""

    def __init__(self, server: TesseraServer, access_key_id: str | None = None, secret: str | None = None) -> None:
        self.server = server
        self.base = server.endpoint + "/-/console"
        self.http = requests.Session()
        self.csrf_token = ""
        self.access_key_id = access_key_id or server.access_key_id
        self.secret = secret or server.access_key_secret

    def sign_in(self) -> requests.Response:
        """Signs in through the sign-in form, as a browser does; returns the final answer."""
        form = self.http.get(self.base + "/signin")
        token = SIGNIN_TOKEN.search(form.text)
        assert token, form.text
        answer = self.http.post(self.base + "/signin", data={
            "csrf_token": token.group(1), "access_key_id": self.access_key_id, "secret": self.secret,
            "next": "/-/console/"})
        found = PAGE_TOKEN.search(answer.text)
        self.csrf_token = found.group(1) if found else ""
        return answer

    def request(self, method: str, path: str, *, csrf: bool = True, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf_token)
        headers.setdefault("Accept", "application/json")
        return self.http.request(method, self.base + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


class ConsoleBrowser:
    """A Playwright page signed in to the console as the server's root key."""

    def __init__(self, server: TesseraServer, context: Any, test_name: str) -> None:
        self.server = server
        self.context = context
        self.page = context.new_page()
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.console_errors: list[str] = []
        self.page.on("console", self._console_message)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        self.page.on("response", self._response)

    def _console_message(self, message: Any) -> None:
        # A refused API call (a 4xx the page handles and shows) is logged by Chromium too; script
        # errors, CSP violations and 5xx are not expected.
        if message.type == "error" and not message.text.startswith(EXPECTED_REFUSAL):
            self.console_errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status >= 500 or (response.status >= 400 and "/-/console/static/" in response.url):
            self.console_errors.append(f"{response.status} for {response.url}")

    def url(self, path: str) -> str:
        return self.server.endpoint + "/-/console" + path

    def open(self, path: str) -> Any:
        self.page.goto(self.url(path))
        return self.page

    def sign_in(self, access_key_id: str | None = None, secret: str | None = None) -> None:
        self.open("/signin")
        self.page.get_by_label("Access key ID").fill(access_key_id or self.server.access_key_id)
        self.page.get_by_label("Access key secret").fill(secret or self.server.access_key_secret)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()

    def screenshot(self, name: str) -> Path:
        """A full-page PNG under test-artifacts/console/ (look at it)."""
        folder = ARTIFACTS / "console"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.test_name}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
