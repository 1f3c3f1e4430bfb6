"""Part Management in a real browser, as the issue tells it: a bucket's incomplete uploads found,
searched, one deleted (after a Cancel that deletes nothing), the rest deleted by Delete All as a
server-side job — then checked through oss2 and GetBucketStat; an upload's parts; a hostile key."""

from __future__ import annotations

import re

import oss2
from playwright.sync_api import expect

from tests.support.clients import Clients
from tests.support.console import ConsoleBrowser

PART = 100 * 1024


def _uploads(bucket: oss2.Bucket) -> dict[str, str]:
    return {u.key: u.upload_id for u in oss2.MultipartUploadIterator(bucket)}


def test_find_search_delete_one_cancel_and_delete_all(console: ConsoleBrowser, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-console")
    bucket.create_bucket()
    sizes = {"logs/2026/a.bin": [PART, 10], "logs/2026/b.bin": [PART], "photos/c.jpg": [PART, PART, 7]}
    for key, part_sizes in sizes.items():
        upload_id = bucket.init_multipart_upload(key).upload_id
        for number, size in enumerate(part_sizes, start=1):
            bucket.upload_part(key, upload_id, number, b"p" * size)
    bucket.put_object("kept.txt", b"an object stays")

    # Buckets → the bucket → Objects → Part Management, as in the OSS console.
    page = console.open("/")
    page.get_by_role("link", name="parts-console", exact=True).click()
    page.get_by_role("button", name="Part Management").click()
    page.get_by_role("heading", name="Part Management").wait_for()
    table = page.get_by_role("table", name="Incomplete uploads")
    rows = table.get_by_role("row")
    rows.nth(3).wait_for()
    assert sorted(table.locator("td.key").all_inner_texts()) == sorted(sizes)
    summary = page.locator("#summary")
    assert summary.inner_text() == "3 incomplete uploads hold 6 parts, 400.0 KiB."
    photo = rows.filter(has_text="photos/c.jpg")
    cells = [c.strip() for c in photo.get_by_role("cell").all_inner_texts()]
    assert cells[1] == "photos/c.jpg" and cells[2] == _uploads(bucket)["photos/c.jpg"]
    assert (cells[5], cells[6], cells[7]) == ("3", "200.0 KiB", "Standard")
    assert cells[8].endswith("CNY") and cells[9].endswith("CNY")
    console.screenshot("uploads")

    page.get_by_role("searchbox", name="Search").fill("logs/")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(table.locator("tbody tr")).to_have_count(2)
    assert sorted(table.locator("td.key").all_inner_texts()) == ["logs/2026/a.bin", "logs/2026/b.bin"]
    assert "prefix=logs%2F" in page.url

    page.get_by_role("checkbox", name="Select logs/2026/a.bin").check()
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_text("1 upload, 2 parts and 100.0 KiB (102,410 bytes) will be deleted").is_visible()
    console.screenshot("confirm-delete")
    dialog.get_by_role("button", name="Cancel").click()
    assert len(_uploads(bucket)) == 3  # Cancel deleted nothing

    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="OK").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    assert set(_uploads(bucket)) == {"logs/2026/b.bin", "photos/c.jpg"}

    # Drill into an upload: its parts, as ListParts reports them.
    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(table.locator("tbody tr")).to_have_count(2)
    photo_id = _uploads(bucket)["photos/c.jpg"]
    page.get_by_role("button", name=photo_id).click()
    panel = page.get_by_role("region", name="Parts of photos/c.jpg")
    panel.get_by_role("row").nth(3).wait_for()
    listed = bucket.list_parts("photos/c.jpg", photo_id).parts
    shown = [[c.strip() for c in r.get_by_role("cell").all_inner_texts()] for r in panel.get_by_role("row").all()[1:]]
    assert [(s[0], s[2]) for s in shown] == [(str(p.part_number), p.etag.strip('"')) for p in listed]
    assert [s[1] for s in shown] == ["100.0 KiB", "100.0 KiB", "7 B"]
    assert all(re.fullmatch(r"\d+", s[3]) and s[4].endswith("UTC") for s in shown)
    console.screenshot("parts")

    before = bucket.get_bucket_stat()
    assert (before.multi_part_upload_count, before.multipart_part_count) == (2, 4)
    page.get_by_role("button", name="Delete All", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "2 uploads, 4 parts and 300.0 KiB (307,207 bytes) will be deleted" in dialog.inner_text()
    console.screenshot("confirm-delete-all")
    dialog.get_by_role("button", name="OK").click()
    job = page.get_by_role("region", name="Delete All")
    job.get_by_text("Done: deleted 2 uploads, 4 parts and 300.0 KiB").wait_for(timeout=15_000)
    page.get_by_text("No incomplete uploads").wait_for()
    console.screenshot("delete-all-done")

    assert _uploads(bucket) == {}
    after = bucket.get_bucket_stat()
    assert (after.multi_part_upload_count, after.multipart_part_count) == (0, 0)
    assert before.storage_size_in_bytes - after.storage_size_in_bytes == 307_207  # the bytes freed
    assert after.object_count == 1


def test_a_key_of_markup_renders_as_text_and_runs_nothing(console: ConsoleBrowser, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-hostile")
    bucket.create_bucket()
    hostile = "<img src=x onerror=alert(1)>"
    upload_id = bucket.init_multipart_upload(hostile).upload_id
    bucket.upload_part(hostile, upload_id, 1, b"x" * 10)
    dialogs: list[str] = []
    console.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page = console.open(f"/buckets/parts-hostile/parts?prefix={oss2.urlquote('<img')}")
    cell = page.locator("#uploads td.key")
    cell.wait_for()
    assert cell.inner_text() == hostile
    page.get_by_role("button", name=upload_id).click()
    page.get_by_role("region", name=f"Parts of {hostile}").get_by_role("row").nth(1).wait_for()
    assert page.locator("main img").count() == 0 and page.locator("img").count() == 0
    assert page.get_by_role("searchbox", name="Search").input_value() == "<img"
    page.wait_for_timeout(200)
    assert dialogs == []
    console.screenshot("hostile-key")


def test_clean_up_parts_older_than_n_days_shows_the_rules_preview_then_saves_it(console: ConsoleBrowser,
                                                                             console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-cleanup")
    bucket.create_bucket()
    bucket.init_multipart_upload("tmp/recent")
    page = console.open("/buckets/parts-cleanup/parts")
    page.get_by_role("searchbox", name="Search").fill("tmp/")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#uploads tbody tr")).to_have_count(1)
    page.get_by_label("Clean up parts older than").fill("3")
    page.get_by_role("button", name="Preview the rule").click()
    # The Lifecycle page's own dry run of the rule, then one click saves it.
    expect(page.get_by_role("heading", name="Clean up parts older than 3 days")).to_be_visible()
    page.get_by_role("heading", name="Abort incomplete uploads: 0 uploads, 0 parts, 0 B").wait_for()
    console.screenshot("cleanup-preview")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Edit rule abort-parts-after-3-days-under-tmp/").wait_for()
    [rule] = bucket.get_bucket_lifecycle().rules
    assert (rule.prefix, rule.abort_multipart_upload.days) == ("tmp/", 3)
