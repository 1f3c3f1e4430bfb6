"""Signing in to the console, and what guards it: sessions that expire, CSRF tokens on every
state change, a lockout after repeated failures, the security headers — and the front door: a
browser opening the server's address gets the console, an SDK listing buckets does not."""

from __future__ import annotations

import subprocess
import sys
import time

import oss2
import pytest
import requests

from tests.conftest import start_server
from tests.support.clients import Clients
from tests.support.console import ConsoleApi
from tests.support.keys import create_key
from tests.support.server import TesseraServer


def test_a_browser_opening_the_address_is_sent_to_the_console(console_server: TesseraServer) -> None:
    answer = requests.get(console_server.endpoint + "/", headers={"Accept": "text/html,application/xhtml+xml"},
                          allow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/-/console/"


def test_sdks_listing_buckets_at_the_root_are_answered_as_before(console_server: TesseraServer) -> None:
    names = [b.name for b in Clients(console_server).oss2_service().list_buckets().buckets]
    assert isinstance(names, list)
    unsigned = requests.get(console_server.endpoint + "/", allow_redirects=False)
    assert unsigned.status_code == 403 and b"<Code>AccessDenied</Code>" in unsigned.content


def test_pages_redirect_to_sign_in_and_the_api_answers_401(console_server: TesseraServer) -> None:
    page = requests.get(console_server.endpoint + "/-/console/", allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"].startswith("/-/console/signin?next=")
    api = requests.get(console_server.endpoint + "/-/console/api/buckets")
    assert api.status_code == 401 and api.json()["error"]["code"] == "NotSignedIn"


def test_sign_in_gives_an_http_only_strict_session_cookie(console_server: TesseraServer) -> None:
    api = ConsoleApi(console_server)
    form = api.http.get(api.base + "/signin")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = api.http.post(api.base + "/signin", allow_redirects=False, data={
        "csrf_token": token, "access_key_id": console_server.access_key_id,
        "secret": console_server.access_key_secret, "next": "/-/console/"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/-/console/"
    cookie = answer.headers["Set-Cookie"]
    assert "tessera_console=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/-/console" in cookie and "Secure" not in cookie  # plain HTTP here
    assert api.http.get(api.base + "/api/buckets").status_code == 200


def test_a_wrong_secret_is_refused(console_server: TesseraServer) -> None:
    api = ConsoleApi(console_server, secret="not-the-secret")
    answer = api.sign_in()
    assert answer.status_code == 401
    assert "wrong" in answer.text
    assert api.get("/api/buckets").status_code == 401


def test_the_sign_in_form_needs_its_own_token(console_server: TesseraServer) -> None:
    answer = requests.post(console_server.endpoint + "/-/console/signin", allow_redirects=False, data={
        "access_key_id": console_server.access_key_id, "secret": console_server.access_key_secret})
    assert answer.status_code == 403
    assert "tessera_console=" not in answer.headers.get("Set-Cookie", "")


def test_state_changes_without_the_csrf_token_are_refused(console_api: ConsoleApi, console_clients: Clients) -> None:
    refused = console_api.post("/api/buckets", json={"name": "csrf-refused-bucket"}, csrf=False)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "InvalidCsrfToken"
    wrong = console_api.post("/api/buckets", json={"name": "csrf-refused-bucket"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        console_clients.oss2_bucket("csrf-refused-bucket").get_bucket_info()
    signout = console_api.post("/signout", csrf=False, allow_redirects=False)
    assert signout.status_code == 403
    assert console_api.get("/api/buckets").status_code == 200  # still signed in


def test_sign_out_ends_the_session(console_server: TesseraServer) -> None:
    api = ConsoleApi(console_server)
    api.sign_in()
    answer = api.post("/signout", data={"csrf_token": api.csrf_token}, csrf=False, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/-/console/signin"
    assert api.get("/api/buckets").status_code == 401


def test_every_answer_carries_the_security_headers(console_api: ConsoleApi) -> None:
    for path in ("/", "/signin", "/api/buckets", "/static/console.js", "/no-such-page"):
        headers = console_api.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_served_and_nothing_else(console_api: ConsoleApi) -> None:
    script = console_api.get("/static/console.js")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/app.py", "/static/.hidden.js"):
        assert console_api.get(path).status_code == 404, path


def test_bad_json_is_a_console_error_not_a_5xx(console_api: ConsoleApi) -> None:
    for body in (b"{", b"[1, 2]", b"\xff\xfe"):
        answer = console_api.post("/api/buckets", data=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidJson"
    assert console_api.delete("/api/buckets").status_code == 405


@pytest.fixture(scope="module")
def short_sessions(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    server = start_server(tmp_path_factory, request, "sqlite",
                          extra_args=("--console-idle-timeout", "1.5", "--console-session-lifetime", "4"))
    yield server
    server.stop()


def test_an_idle_session_expires(short_sessions: TesseraServer) -> None:
    api = ConsoleApi(short_sessions)
    api.sign_in()
    assert api.get("/api/buckets").status_code == 200
    time.sleep(2)
    assert api.get("/api/buckets").status_code == 401


def test_a_busy_session_still_ends_at_its_lifetime(short_sessions: TesseraServer) -> None:
    api = ConsoleApi(short_sessions)
    api.sign_in()
    deadline = time.monotonic() + 4.5
    answers = []
    while time.monotonic() < deadline:
        answers.append(api.get("/api/buckets").status_code)
        time.sleep(0.3)
    assert answers[0] == 200 and answers[-1] == 401 and 200 in answers[len(answers) // 2:]


def test_a_deleted_key_s_sessions_end(console_server: TesseraServer) -> None:
    other = create_key(console_server)
    api = ConsoleApi(console_server, other.access_key_id, other.access_key_secret)
    api.sign_in()
    assert api.get("/api/buckets").status_code == 200
    subprocess.run([sys.executable, "-m", "tessera", "keys", "delete", other.access_key_id,
                    "--data-dir", str(console_server.data_dir)], check=True, capture_output=True)
    assert api.get("/api/buckets").status_code == 401


def test_repeated_failures_lock_the_key_out_even_with_the_right_secret(console_server: TesseraServer) -> None:
    other = create_key(console_server)
    for _ in range(5):
        assert ConsoleApi(console_server, other.access_key_id, "wrong").sign_in().status_code == 401
    locked = ConsoleApi(console_server, other.access_key_id, other.access_key_secret).sign_in()
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 60
    assert "Too many failed sign-ins" in locked.text
    # The root key, signing in from the same address, is not locked out by another key's failures.
    assert ConsoleApi(console_server).sign_in().status_code == 200


def test_signing_in_in_a_browser_and_a_wrong_secret_refused(browser, console_server: TesseraServer) -> None:
    from tests.support.console import ConsoleBrowser

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        visitor = ConsoleBrowser(console_server, context, "test_signing_in_in_a_browser")
        page = visitor.page
        page.goto(console_server.endpoint + "/")  # the server's address, as a person types it
        assert page.url.startswith(console_server.endpoint + "/-/console/signin")
        visitor.screenshot("signin")
        visitor.sign_in(secret="not-the-secret")
        assert page.get_by_role("alert").filter(has_text="wrong").is_visible()
        assert page.get_by_label("Access key ID").input_value() == console_server.access_key_id
        visitor.screenshot("signin-refused")
        visitor.sign_in()
        assert page.url == console_server.endpoint + "/-/console/"
        assert page.get_by_role("heading", name="Buckets").is_visible()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/-/console/signin")
        page.goto(console_server.endpoint + "/-/console/")
        assert "/-/console/signin" in page.url
        assert not visitor.console_errors
    finally:
        context.close()


def test_a_sign_in_form_of_undeclared_length_is_refused_not_read(console_server: TesseraServer) -> None:
    def endless():
        yield b"access_key_id=x&secret="
        for _ in range(64):
            yield b"y" * 4096

    answer = requests.post(console_server.endpoint + "/-/console/signin", data=endless(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
    assert answer.status_code == 411
    big = requests.post(console_server.endpoint + "/-/console/signin", data=b"a=" + b"b" * 70_000,
                        headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False)
    assert big.status_code == 413
