"""The Objects page, in a real headless Chromium: folders, paging and search; uploads from the
browser (a 30 MiB file as a multipart upload with its progress shown, resumed after a reload);
download; delete one or several; an object's details; hostile keys shown as text; and the
way to Part Management. What the page did is checked through oss2."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import oss2
from playwright.sync_api import expect

from tests.support.clients import Clients
from tests.support.console import ConsoleBrowser

MiB = 1024 * 1024
UPLOAD_TIMEOUT = 60_000  # ms: 30 MiB through a browser on a busy machine
PART_REQUEST = re.compile(r"/-/console/api/buckets/[^/]+/multipart/[^/?]+/(\d+)\?")


def names(page: Any) -> Any:
    """The Name cells of the listing (folders and objects), as a locator to expect on."""
    return page.locator("#object-rows td.key")


def make_bucket(clients: Clients, name: str, keys: list[str]) -> oss2.Bucket:
    bucket = clients.oss2_bucket(name)
    bucket.create_bucket()
    for key in keys:
        bucket.put_object(key, f"body of {key}".encode())
    return bucket


def part_requests(page: Any) -> list[int]:
    """The part numbers the page sends from now on, in order."""
    sent: list[int] = []

    def seen(request: Any) -> None:
        found = PART_REQUEST.search(request.url)
        if request.method == "PUT" and found:
            sent.append(int(found.group(1)))

    page.on("request", seen)
    return sent


def big_file(tmp_path: Path, name: str, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def test_browsing_folders_and_going_up(console: ConsoleBrowser, console_clients: Clients) -> None:
    make_bucket(console_clients, "console-browse",
                ["top.txt", "photos/a.jpg", "photos/2026/b.jpg", "photos/2026/c.jpg", "docs/readme.md"])
    page = console.open("/buckets/console-browse/objects")
    expect(names(page)).to_have_text(["docs/", "photos/", "top.txt"])
    expect(page.locator("#listing-summary")).to_have_text("2 folders, 1 object")
    console.screenshot("listing")
    page.get_by_role("link", name="photos/").click()
    expect(names(page)).to_have_text(["2026/", "a.jpg"])
    page.get_by_role("link", name="2026/").click()
    expect(names(page)).to_have_text(["b.jpg", "c.jpg"])
    crumbs = page.get_by_role("navigation", name="Folder path")
    expect(crumbs.get_by_role("link")).to_have_text(["console-browse", "photos", "2026"])
    console.screenshot("folder")
    crumbs.get_by_role("link", name="photos").click()
    expect(names(page)).to_have_text(["2026/", "a.jpg"])
    page.get_by_role("navigation", name="Folder path").get_by_role("link", name="console-browse").click()
    expect(names(page)).to_have_text(["docs/", "photos/", "top.txt"])


def test_paging_through_more_objects_than_one_page(console: ConsoleBrowser, console_clients: Clients) -> None:
    make_bucket(console_clients, "console-paging", [f"p/obj-{n:02}" for n in range(12)])
    page = console.open("/buckets/console-paging/objects?prefix=p/&limit=5")
    first = [f"obj-{n:02}" for n in range(5)]
    expect(names(page)).to_have_text(first)
    previous, next_ = page.get_by_role("button", name="Previous"), page.get_by_role("button", name="Next")
    expect(previous).to_be_disabled()
    next_.click()
    expect(names(page)).to_have_text([f"obj-{n:02}" for n in range(5, 10)])
    next_.click()
    expect(names(page)).to_have_text(["obj-10", "obj-11"])
    expect(next_).to_be_disabled()
    expect(page.locator("#page-number")).to_have_text("Page 3")
    previous.click()
    expect(names(page)).to_have_text([f"obj-{n:02}" for n in range(5, 10)])
    previous.click()
    expect(names(page)).to_have_text(first)
    expect(previous).to_be_disabled()


def test_searching_by_prefix_in_a_folder(console: ConsoleBrowser, console_clients: Clients) -> None:
    make_bucket(console_clients, "console-search", ["logs/app-1.log", "logs/app-2.log", "logs/db-1.log",
                                                    "logs/app/x.log", "apple.txt"])
    page = console.open("/buckets/console-search/objects?prefix=logs/")
    expect(names(page)).to_have_text(["app/", "app-1.log", "app-2.log", "db-1.log"])
    page.get_by_role("searchbox", name="Search").fill("app-")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(names(page)).to_have_text(["app-1.log", "app-2.log"])
    page.get_by_role("searchbox", name="Search").fill("nothing")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Nothing in this folder starts with nothing.")).to_be_visible()


def test_uploading_30_mib_from_the_browser_is_a_multipart_object_read_back_identical(
        console: ConsoleBrowser, console_clients: Clients, tmp_path: Path) -> None:
    bucket = make_bucket(console_clients, "console-upload", [])
    path, data = big_file(tmp_path, "big upload.bin", 30 * MiB)
    page = console.open("/buckets/console-upload/objects?prefix=incoming/")
    sent = part_requests(page)
    held: list[Any] = []
    page.route(re.compile(r"/multipart/[^/?]+/4\?"), lambda route: held.append(route))
    page.get_by_label("Choose files").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    for _ in range(1200):  # the last part waits here, so the page is seen mid-upload
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the fourth part was never sent"
    progress = page.get_by_role("progressbar", name="Upload progress")
    expect(progress).to_be_visible()
    expect(page.locator("#upload-amount")).to_have_text(re.compile(r"^2\d\.\d MiB of 30\.0 MiB$"),
                                                     timeout=UPLOAD_TIMEOUT)
    console.screenshot("upload-in-progress")
    held[0].continue_()
    expect(page.locator("#upload-amount")).to_have_text("30.0 MiB of 30.0 MiB", timeout=UPLOAD_TIMEOUT)
    expect(page.locator("#upload-files-status")).to_contain_text("incoming/big upload.bin done",
                                                                     timeout=UPLOAD_TIMEOUT)
    expect(names(page)).to_have_text(["big upload.bin"])
    console.screenshot("upload-done")
    assert sorted(sent) == [1, 2, 3, 4]
    head = bucket.head_object("incoming/big upload.bin")
    assert head.headers["x-oss-object-type"] == "Multipart"
    assert head.content_length == len(data)
    assert bucket.get_object("incoming/big upload.bin").read() == data
    assert page.evaluate("Object.keys(localStorage)") == []


def test_an_upload_interrupted_then_chosen_again_sends_only_the_missing_parts(
        console: ConsoleBrowser, console_clients: Clients, tmp_path: Path) -> None:
    bucket = make_bucket(console_clients, "console-resume", [])
    path, data = big_file(tmp_path, "resume.bin", 30 * MiB)
    page = console.open("/buckets/console-resume/objects")
    sent = part_requests(page)
    # The connection drops for parts 3 and 4: the parts in flight finish, no new one starts (4
    # may have started before 3 failed).
    dropped = re.compile(r"/multipart/[^/?]+/[34]\?")
    page.route(dropped, lambda route: route.fulfill(status=408, content_type="application/json",
                                                    body='{"error": {"code": "RequestTimeout", '
                                                         '"message": "The connection dropped."}}'))
    page.get_by_label("Choose files").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-files-status")).to_contain_text("Choose the same file again to resume.",
                                                                     timeout=UPLOAD_TIMEOUT)
    console.screenshot("upload-interrupted")
    assert {1, 2, 3} <= set(sent)
    uploads = list(oss2.MultipartUploadIterator(bucket))
    assert [u.key for u in uploads] == ["resume.bin"]
    assert [p.part_number for p in oss2.PartIterator(bucket, "resume.bin", uploads[0].upload_id)] == [1, 2]
    page.unroute(dropped)

    page.reload()
    sent = part_requests(page)
    expect(page.get_by_role("region", name="Interrupted uploads")).to_contain_text(
        "resume.bin from resume.bin (30.0 MiB)")
    console.screenshot("upload-resumable")
    page.get_by_label("Choose files").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-files-status")).to_contain_text("resume.bin done", timeout=UPLOAD_TIMEOUT)
    assert sorted(sent) == [3, 4]  # 1 and 2 were there already
    assert bucket.get_object("resume.bin").read() == data
    assert list(oss2.MultipartUploadIterator(bucket)) == []
    assert page.evaluate("Object.keys(localStorage)") == []


def test_cancel_stops_the_upload_and_frees_its_parts(console: ConsoleBrowser, console_clients: Clients,
                                                     tmp_path: Path) -> None:
    bucket = make_bucket(console_clients, "console-cancel", [])
    path, _ = big_file(tmp_path, "cancelled.bin", 20 * MiB)
    page = console.open("/buckets/console-cancel/objects")
    held: list[Any] = []
    page.route(re.compile(r"/multipart/[^/?]+/\d+\?"), lambda route: held.append(route))
    page.get_by_label("Choose files").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    for _ in range(1200):
        if len(held) == 3:
            break
        page.wait_for_timeout(50)
    assert len(held) == 3
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#upload-files-status")).to_contain_text("cancelled.bin cancelled")
    page.unroute(re.compile(r"/multipart/[^/?]+/\d+\?"))
    for _ in range(100):
        if not list(oss2.MultipartUploadIterator(bucket)):
            break
        page.wait_for_timeout(50)
    assert list(oss2.MultipartUploadIterator(bucket)) == []
    assert not bucket.object_exists("cancelled.bin")
    assert page.evaluate("Object.keys(localStorage)") == []


def test_a_small_file_uploads_in_one_request(console: ConsoleBrowser, console_clients: Clients,
                                             tmp_path: Path) -> None:
    bucket = make_bucket(console_clients, "console-small", [])
    path = tmp_path / "note.txt"
    path.write_text("hello from the browser\n")
    page = console.open("/buckets/console-small/objects?prefix=notes/")
    page.get_by_label("Choose files").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    expect(names(page)).to_have_text(["note.txt"])
    head = bucket.head_object("notes/note.txt")
    assert head.headers["x-oss-object-type"] == "Normal"
    assert head.headers["Content-Type"] == "text/plain"
    assert bucket.get_object("notes/note.txt").read() == b"hello from the browser\n"


def test_download_saves_the_object(console: ConsoleBrowser, console_clients: Clients) -> None:
    bucket = make_bucket(console_clients, "console-download", [])
    data = os.urandom(300 * 1024)
    bucket.put_object("dl/photo 1.jpg", data, headers={"Content-Type": "image/jpeg"})
    page = console.open("/buckets/console-download/objects?prefix=dl/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="photo 1.jpg", exact=True))
    with page.expect_download() as downloading:
        row.get_by_role("link", name="Download").click()
    download = downloading.value
    assert download.suggested_filename == "photo 1.jpg"
    assert Path(download.path()).read_bytes() == data


def test_deleting_one_object_and_then_several(console: ConsoleBrowser, console_clients: Clients) -> None:
    bucket = make_bucket(console_clients, "console-delete", ["d/one", "d/two", "d/three", "d/four"])
    page = console.open("/buckets/console-delete/objects?prefix=d/")
    expect(names(page)).to_have_text(["four", "one", "three", "two"])
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="one", exact=True))
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog")).to_contain_text("Delete d/one?")
    page.get_by_role("button", name="Cancel").click()
    assert bucket.object_exists("d/one")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="OK").click()
    expect(names(page)).to_have_text(["four", "three", "two"])
    assert not bucket.object_exists("d/one")

    page.get_by_role("checkbox", name="Select two").check()
    page.get_by_role("checkbox", name="Select three").check()
    expect(page.locator("#selected-count")).to_have_text("2 objects selected")
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("dialog")).to_contain_text("Delete 2 objects: d/three, d/two?")
    page.get_by_role("button", name="OK").click()
    expect(names(page)).to_have_text(["four"])
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["d/four"]


def test_object_details_show_what_the_sdk_set(console: ConsoleBrowser, console_clients: Clients) -> None:
    bucket = make_bucket(console_clients, "console-details", [])
    bucket.put_object("reports/q3.csv", b"a,b\n1,2\n", headers={
        "Content-Type": "text/csv", "x-oss-meta-owner": "finance <team>", "x-oss-storage-class": "IA",
        "x-oss-tagging": "dept=fin&year=2026"})
    head = bucket.head_object("reports/q3.csv")
    page = console.open("/buckets/console-details/objects?prefix=reports/")
    page.get_by_role("link", name="q3.csv", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("reports/q3.csv")
    props = page.locator("dl.props")
    expect(props).to_contain_text(head.etag.upper())
    expect(props).to_contain_text(head.headers["x-oss-hash-crc64ecma"])
    for text in ("IA", "Normal", "text/csv", "8 B", "default"):
        expect(props).to_contain_text(text)
    expect(page.get_by_role("table", name="User metadata")).to_contain_text("x-oss-meta-ownerfinance <team>")
    expect(page.get_by_role("table", name="Tags").get_by_role("row")).to_have_text(
        ["KeyValue", "deptfin", "year2026"])
    console.screenshot("details")
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(re.compile(r"/-/console/buckets/console-details/objects\?prefix=reports%2F$"))
    assert not bucket.object_exists("reports/q3.csv")


def test_hostile_keys_render_as_text_and_run_nothing(console: ConsoleBrowser, console_clients: Clients) -> None:
    hostile = ["<img src=x onerror=alert(1)>", "\"'&<>", "ключ-猫-🐱.txt", "<i>dir<i>/<svg onload=alert(2)>"]
    make_bucket(console_clients, "console-hostile", hostile)
    page = console.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    console.open("/buckets/console-hostile/objects")
    expect(names(page)).to_have_text(["<i>dir<i>/", "\"'&<>", "<img src=x onerror=alert(1)>", "ключ-猫-🐱.txt"])
    assert page.locator("#object-rows img, #object-rows i, #object-rows svg").count() == 0
    console.screenshot("hostile-keys")
    page.get_by_role("link", name="<i>dir<i>/").click()
    expect(names(page)).to_have_text(["<svg onload=alert(2)>"])
    expect(page.get_by_role("navigation", name="Folder path").get_by_role("link")).to_have_text(
        ["console-hostile", "<i>dir<i>"])
    page.get_by_role("link", name="<svg onload=alert(2)>").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("<i>dir<i>/<svg onload=alert(2)>")
    assert page.locator("main svg, main i").count() == 0
    console.open("/buckets/console-hostile/object?key=" + quote("<img src=x onerror=alert(1)>", safe=""))
    expect(page.get_by_role("heading", level=1)).to_have_text("<img src=x onerror=alert(1)>")
    assert page.locator("main img").count() == 0
    assert dialogs == []


def test_the_part_management_button_leads_to_the_buckets_parts(console: ConsoleBrowser,
                                                               console_clients: Clients) -> None:
    make_bucket(console_clients, "console-to-parts", [])
    page = console.open("/buckets/console-to-parts/objects")
    page.get_by_role("button", name="Part Management").click()
    expect(page).to_have_url(re.compile(r"/-/console/buckets/console-to-parts/parts$"))
