"""The Lifecycle page in a real browser: a rule created in the console, after its dry-run
preview named the uploads it would abort, is what GetBucketLifecycle returns through oss2; it
can be edited, disabled and deleted; rule IDs are shown as text; the run log says what ran."""

from __future__ import annotations

import datetime
import math
import time

import oss2
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.support.clients import Clients
from tests.support.console import ConsoleApi, ConsoleBrowser
from tessera.console.lifecycle import cleanup_url

DAY = 86_400


def as_of(seconds: float) -> str:
    """A datetime-local value (UTC, to the second)."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.fixture
def bucket(console_clients: Clients, request: pytest.FixtureRequest) -> oss2.Bucket:
    made = console_clients.oss2_bucket("lc-page-" + str(abs(hash(request.node.name)) % 10**8))
    made.create_bucket()
    return made


def test_a_rule_created_after_its_preview_is_what_the_sdk_reads(console: ConsoleBrowser, bucket: oss2.Bucket) -> None:
    old = {k: bucket.init_multipart_upload(k).upload_id for k in ("tmp/old-1", "tmp/old-2")}
    bucket.upload_part("tmp/old-2", old["tmp/old-2"], 1, b"x" * 2048)
    bucket.init_multipart_upload("keep/elsewhere")
    cutoff = math.ceil(time.time())  # a day before the preview's instant: the old ones were last updated by then
    time.sleep(cutoff + 0.5 - time.time())
    new = bucket.init_multipart_upload("tmp/new").upload_id  # younger than the rule's day at the preview's instant

    page = console.open(f"/buckets/{bucket.bucket_name}/lifecycle")
    page.get_by_role("button", name="Create Rule").click()
    page.get_by_label("Rule ID").fill("tmp-parts")
    page.get_by_label("Prefix").fill("tmp/")
    page.get_by_label("Abort incomplete uploads", exact=True).check()
    page.get_by_label("Abort incomplete uploads after days").fill("1")
    page.get_by_label("Preview as of (UTC)").fill(as_of(cutoff + DAY))
    save = page.get_by_role("button", name="Save")
    assert save.is_disabled()  # no saving before the preview
    page.get_by_role("button", name="Preview", exact=True).click()
    table = page.get_by_role("table", name="Preview: Abort incomplete uploads")
    table.wait_for()
    assert "Abort incomplete uploads: 2 uploads, 1 part, 2.0 KiB" in page.locator("#preview").inner_text()
    rows = {r[0]: r for r in (row.get_by_role("cell").all_inner_texts() for row in table.locator("tbody tr").all())}
    assert set(rows) == {"tmp/old-1", "tmp/old-2"}
    key, upload_id, age, size, parts = rows["tmp/old-2"]
    assert (upload_id, size, parts) == (old["tmp/old-2"], "2.0 KiB", "1") and age.startswith("1 d")
    assert new not in page.locator("#preview").inner_text()
    console.screenshot("form-with-preview")

    save.click()
    page.get_by_role("row").filter(has_text="tmp-parts").wait_for()
    [rule] = bucket.get_bucket_lifecycle().rules
    assert (rule.id, rule.prefix, rule.status, rule.abort_multipart_upload.days) == ("tmp-parts", "tmp/", "Enabled", 1)
    assert len(list(oss2.MultipartUploadIterator(bucket))) == 4  # a preview and a save abort nothing


def test_edit_disable_and_delete_a_rule(console: ConsoleBrowser, bucket: oss2.Bucket) -> None:
    page = console.open(f"/buckets/{bucket.bucket_name}/lifecycle")
    page.get_by_label("Clean up parts older than").fill("7")
    page.get_by_role("button", name="Preview Cleanup").click()
    page.get_by_text("Abort incomplete uploads: 0 uploads, 0 parts, 0 B").wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Edit rule abort-parts-after-7-days").click()
    page.get_by_label("Abort incomplete uploads after days").fill("3")
    page.get_by_label("Expire objects", exact=True).check()
    page.get_by_label("Expire objects after days").fill("30")
    page.get_by_label("Move objects to IA", exact=True).check()
    page.get_by_label("Move objects to IA after days").fill("40")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_text("transitions must happen sooner").wait_for()  # the refusal OSS would give, shown
    assert page.get_by_label("Move objects to IA after days").get_attribute("aria-invalid") == "true"
    page.get_by_label("Move objects to IA after days").fill("10")
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("heading", name="Move objects to IA: 0 objects, 0 B").wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Move objects to IA 10 days after last modified").wait_for()
    [rule] = bucket.get_bucket_lifecycle().rules
    assert (rule.abort_multipart_upload.days, rule.expiration.days, rule.storage_transitions[0].days) == (3, 30, 10)

    page.get_by_role("button", name="Disable rule abort-parts-after-7-days").click()
    page.get_by_role("button", name="Enable rule abort-parts-after-7-days").wait_for()
    assert bucket.get_bucket_lifecycle().rules[0].status == "Disabled"
    page.get_by_role("button", name="Delete rule abort-parts-after-7-days").click()
    page.get_by_role("button", name="Cancel", exact=True).click()
    assert len(bucket.get_bucket_lifecycle().rules) == 1
    page.get_by_role("button", name="Delete rule abort-parts-after-7-days").click()
    page.get_by_role("button", name="OK", exact=True).click()
    page.get_by_text("No lifecycle rules.").wait_for()
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


def test_a_click_before_the_page_s_script_ran_waits_for_it(console: ConsoleBrowser, bucket: oss2.Bucket) -> None:
    """The buttons are in the HTML before the deferred script wires them (the edit test once
    clicked Edit right after a reload and no form opened): the page takes no click until then."""
    assert _api(console).put(f"/api/buckets/{bucket.bucket_name}/lifecycle", json={"rules": [
        {"id": "early", "prefix": "", "abort_multipart_upload": {"days": 2}}]}).status_code == 200
    held: list = []
    console.page.route("**/static/lifecycle*.js*", lambda route: held.append(route))
    page = console.page
    page.goto(console.url(f"/buckets/{bucket.bucket_name}/lifecycle"), wait_until="commit")
    edit = page.get_by_role("button", name="Edit rule early")
    edit.wait_for()
    assert held, "the page's script was not asked for"
    with pytest.raises(PlaywrightTimeout):
        edit.click(timeout=1500)  # refused while the script is held back, not lost
    for route in held:
        route.continue_()
    edit.click()
    expect(page.get_by_label("Rule ID")).to_have_value("early")


def test_part_cleanup_rules_come_first_and_ids_are_text(console: ConsoleBrowser, console_clients: Clients,
                                                        bucket: oss2.Bucket) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    api = _api(console)
    assert api.put(f"/api/buckets/{bucket.bucket_name}/lifecycle", json={"rules": [
        {"id": "logs", "prefix": "logs/", "expiration": {"days": 30}},
        {"id": hostile, "prefix": "<b>tmp</b>/", "abort_multipart_upload": {"days": 2}}]}).status_code == 200
    dialogs: list[str] = []
    console.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page = console.open(f"/buckets/{bucket.bucket_name}/lifecycle")
    ids = page.get_by_role("table", name="Lifecycle rules").locator("tbody tr td:first-child").all_inner_texts()
    assert ids == [hostile, "logs"]  # part cleanup first, the ID shown as the text it is
    assert page.locator("script:not([src])").count() == 0 and page.locator("img[src=x]").count() == 0
    page.get_by_role("button", name=f"Edit rule {hostile}").click()
    expect(page.get_by_label("Rule ID")).to_have_value(hostile)
    expect(page.get_by_role("heading", name=f"Edit rule {hostile}")).to_be_visible()
    assert dialogs == []
    console.screenshot("rules")


def test_the_run_log_says_what_each_run_did(console: ConsoleBrowser, bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("forgotten/upload").upload_id
    _api(console).post(f"/api/buckets/{bucket.bucket_name}/lifecycle/rules",
                       json={"rule": {"id": "sweep", "abort_multipart_upload": {"days": 1}}})
    at = datetime.datetime.fromtimestamp(time.time() + 2 * DAY, tz=datetime.timezone.utc).isoformat()
    for extra in (("--dry-run",), ()):
        assert console.server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--now", at,
                                    *extra).returncode == 0
    page = console.open(f"/buckets/{bucket.bucket_name}/lifecycle")
    log = page.get_by_role("table", name="Lifecycle runs")
    first, second = log.locator("tbody tr").all()[:2]
    assert "sweep · AbortMultipartUpload: 1 upload, 0 B — forgotten/upload" in first.inner_text()
    assert "(dry run)" in second.inner_text() and "(dry run)" not in first.inner_text()
    summary = page.locator("#runs-title + p").inner_text()
    assert "Last run: " in summary and "(admin)" in summary and "Next run: " in summary
    assert "(daily at 00:00 UTC)" in summary
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("forgotten/upload", upload_id)
    console.screenshot("run-log")


def _api(console: ConsoleBrowser) -> ConsoleApi:
    api = ConsoleApi(console.server)
    assert api.sign_in().status_code == 200
    return api


def test_part_managements_cleanup_link_previews_the_rule_then_one_click_saves_it(console: ConsoleBrowser,
                                                                                  bucket: oss2.Bucket) -> None:
    bucket.init_multipart_upload("tmp/recent")
    page = console.page
    page.goto(console.server.endpoint + cleanup_url(bucket.bucket_name, 3, "tmp/"))
    page.get_by_role("heading", name="Abort incomplete uploads: 0 uploads, 0 parts, 0 B").wait_for()
    expect(page.get_by_role("heading", name="Clean up parts older than 3 days")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Edit rule abort-parts-after-3-days-under-tmp/").wait_for()
    [rule] = bucket.get_bucket_lifecycle().rules
    assert (rule.prefix, rule.abort_multipart_upload.days) == ("tmp/", 3)
