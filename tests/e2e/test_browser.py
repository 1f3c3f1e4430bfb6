"""A real headless Chromium, on a page served from another origin, uploads to a bucket with a
PostObject form and with a presigned PUT, and reads the objects back with fetch — through the
bucket's CORS rules; without a rule that allows the page, the browser refuses.

Chromium is Debian's package (scripts/install-test-deps installs it), driven by Playwright; the
tests skip, saying why, only when it cannot be launched.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import oss2
import pytest
from oss2.models import BucketCors, CorsRule

from tests.support import forms
from tests.support.clients import Clients
from tests.support.server import TesseraServer

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

PAGE = b"""<!doctype html>
<html><body>
<form id="upload"><input type="text" name="key"><input type="file" name="file"></form>
<script>
async function postForm(url, fields) {
  // The fields in order, then the file chosen in the form's file input, last.
  const data = new FormData();
  for (const [name, value] of fields) data.append(name, value);
  data.append("file", document.querySelector("input[type=file]").files[0]);
  try {
    const response = await fetch(url, {method: "POST", body: data});
    return {ok: true, status: response.status, etag: response.headers.get("ETag"), body: await response.text()};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
}
function submitForm(url, fields) {
  // A plain HTML form post, as pages did before fetch: the browser navigates to the answer.
  const form = document.getElementById("upload");
  form.action = url;
  form.method = "post";
  form.enctype = "multipart/form-data";
  const file = form.querySelector("input[type=file]");
  for (const [name, value] of fields) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.insertBefore(input, file);  // the file stays the last field
  }
  form.querySelector("input[name=key]").remove();
  form.submit();
}
async function put(url, body, type) {
  try {
    const response = await fetch(url, {method: "PUT", body: body, headers: {"Content-Type": type}});
    return {ok: true, status: response.status, etag: response.headers.get("ETag")};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
}
async function get(url) {
  try {
    const response = await fetch(url);
    return {ok: true, status: response.status, body: await response.text()};
  } catch (error) {
    return {ok: false, error: String(error)};
  }
}
</script>
</body></html>
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """The page's own origin: another loopback port than Tessera's, so every call is cross-origin."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def page(browser: Any, page_origin: str, tmp_path) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(page_origin + "/")
    yield opened
    context.close()


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def allow(bucket: oss2.Bucket, origin: str) -> None:
    bucket.put_bucket_cors(BucketCors([CorsRule(allowed_origins=[origin], allowed_methods=["GET", "PUT", "POST"],
                                                allowed_headers=["*"], expose_headers=["ETag"],
                                                max_age_seconds=0)]))


def choose_file(page: Any, tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.set_input_files("input[type=file]", str(path))


def form_fields(server: TesseraServer, bucket: oss2.Bucket, key: str, version: str = "v4") -> list[list[str]]:
    conditions = [{"bucket": bucket.bucket_name}, ["starts-with", "$key", "uploads/"],
                  ["content-length-range", 1, 1024 * 1024]]
    if version == "v4":
        signed = forms.v4_form(server, conditions)
    else:
        signed = forms.v1_fields(server, forms.policy(conditions))
    return [["key", key], ["success_action_status", "201"], *([k, v] for k, v in signed.items())]


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_form_upload_and_presigned_put_through_cors(server: TesseraServer, clients: Clients, bucket: oss2.Bucket,
                                                    page: Any, page_origin: str, tmp_path, version: str) -> None:
    allow(bucket, page_origin)
    signer = clients.oss2_bucket(bucket.bucket_name, version)  # signs the presigned URLs, V1 or V4
    bucket_url = f"{server.endpoint}/{bucket.bucket_name}/"

    choose_file(page, tmp_path, "notes.txt", b"posted from a page")
    posted = page.evaluate("([url, fields]) => postForm(url, fields)",
                           [bucket_url, form_fields(server, bucket, "uploads/${filename}", version)])
    assert posted["ok"], posted
    assert posted["status"] == 201 and "<PostResponse>" in posted["body"]
    assert posted["etag"]  # readable because the rule exposes it
    assert bucket.get_object("uploads/notes.txt").read() == b"posted from a page"

    put_url = signer.sign_url("PUT", "uploads/put.txt", 300, headers={"Content-Type": "text/plain"})
    put = page.evaluate("([url, body]) => put(url, body, 'text/plain')", [put_url, "put from a page"])
    assert put["ok"] and put["status"] == 200, put  # after a preflight for the PUT and its Content-Type
    assert put["etag"]
    for key, expected in (("uploads/notes.txt", "posted from a page"), ("uploads/put.txt", "put from a page")):
        read = page.evaluate("(url) => get(url)", signer.sign_url("GET", key, 300))
        assert read == {"ok": True, "status": 200, "body": expected}


def test_without_a_matching_rule_the_browser_refuses(server: TesseraServer, bucket: oss2.Bucket, page: Any,
                                                     page_origin: str, tmp_path) -> None:
    bucket.put_object("uploads/existing.txt", b"private")
    get_url = bucket.sign_url("GET", "uploads/existing.txt", 300)
    put_url = bucket.sign_url("PUT", "uploads/put.txt", 300, headers={"Content-Type": "text/plain"})
    bucket_url = f"{server.endpoint}/{bucket.bucket_name}/"
    choose_file(page, tmp_path, "f.txt", b"x")
    for rules in (None, "http://other.example"):  # no rules at all, then rules for another origin only
        if rules:
            allow(bucket, rules)
        read = page.evaluate("(url) => get(url)", get_url)
        assert read["ok"] is False, read
        put = page.evaluate("([url, body]) => put(url, body, 'text/plain')", [put_url, "y"])
        assert put["ok"] is False, put
        posted = page.evaluate("([url, fields]) => postForm(url, fields)",
                               [bucket_url, form_fields(server, bucket, "uploads/${filename}")])
        assert posted["ok"] is False, posted
    # The refused preflight kept the PUT from being sent at all.
    assert not bucket.object_exists("uploads/put.txt")
    # With the page's origin allowed, the same calls go through.
    allow(bucket, page_origin)
    assert page.evaluate("(url) => get(url)", get_url) == {"ok": True, "status": 200, "body": "private"}


def test_a_plain_html_form_uploads_and_is_redirected_back(server: TesseraServer, bucket: oss2.Bucket, page: Any,
                                                          page_origin: str, tmp_path) -> None:
    """No CORS is needed for a form the browser submits itself: the answer is a navigation."""
    choose_file(page, tmp_path, "report.csv", b"a,b\n1,2\n")
    fields = [f for f in form_fields(server, bucket, "uploads/${filename}", "v1") if f[0] != "success_action_status"]
    fields.append(["success_action_redirect", page_origin + "/done"])
    with page.expect_navigation(url=f"{page_origin}/done?**"):
        page.evaluate("([url, fields]) => submitForm(url, fields)", [f"{server.endpoint}/{bucket.bucket_name}/", fields])
    landed = parse_qs(urlsplit(page.url).query)
    assert landed["bucket"] == [bucket.bucket_name] and landed["key"] == ["uploads/report.csv"]
    assert landed["etag"][0].strip('"') == bucket.head_object("uploads/report.csv").etag
    assert bucket.get_object("uploads/report.csv").read() == b"a,b\n1,2\n"
