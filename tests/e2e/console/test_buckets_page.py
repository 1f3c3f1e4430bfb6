"""The Buckets page, in a real browser: what each bucket holds and costs, creating one, and a
delete refused because parts remain — which says how many uploads block it and links to Part
Management."""

from __future__ import annotations

import oss2
import pytest

from tests.support.clients import Clients
from tests.support.console import ConsoleApi, ConsoleBrowser


def test_the_buckets_page_shows_objects_uploads_storage_and_cost(console: ConsoleBrowser,
                                                                 console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-stats")
    bucket.create_bucket()
    bucket.put_object("a.txt", b"x" * 3000)
    upload = bucket.init_multipart_upload("big.bin").upload_id
    bucket.upload_part("big.bin", upload, 1, b"y" * (2 * 1024 * 1024))
    page = console.open("/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="console-stats", exact=True))
    cells = [c.strip() for c in row.get_by_role("cell").all_inner_texts()]
    assert cells[:3] == ["console-stats", "cn-hangzhou", "Standard"]
    assert cells[4:8] == ["1", "1", "2.9 KiB", "2.0 MiB"]
    assert cells[8].endswith("CNY") and float(cells[8].split()[0]) > 0
    console.screenshot("buckets")


def test_a_bucket_created_in_the_console_exists_for_the_sdk(console: ConsoleBrowser, console_clients: Clients) -> None:
    page = console.open("/")
    page.get_by_label("Bucket name").fill("made-in-console")
    page.get_by_label("Storage class").select_option("IA")
    page.get_by_role("button", name="Create Bucket").click()
    page.get_by_role("link", name="made-in-console", exact=True).wait_for()
    info = console_clients.oss2_bucket("made-in-console").get_bucket_info()
    assert info.storage_class == "IA"
    assert info.owner.id == console.server.access_key_id


def test_deleting_a_bucket_with_parts_says_how_many_uploads_block_it(console: ConsoleBrowser,
                                                                    console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("console-blocked")
    bucket.create_bucket()
    for key in ("one", "two"):
        bucket.init_multipart_upload(key)
    page = console.open("/")
    page.get_by_role("button", name="Delete bucket console-blocked").click()
    page.get_by_role("button", name="Cancel").click()
    assert bucket.get_bucket_info().name == "console-blocked"
    page.get_by_role("button", name="Delete bucket console-blocked").click()
    page.get_by_role("button", name="OK").click()
    link = page.get_by_role("link", name="2 incomplete uploads block it: open Part Management")
    link.wait_for()
    assert link.get_attribute("href") == "/-/console/buckets/console-blocked/parts"
    console.screenshot("delete-refused")
    assert bucket.get_bucket_info().name == "console-blocked"


def test_deleting_an_empty_bucket(console: ConsoleBrowser, console_clients: Clients) -> None:
    console_clients.oss2_bucket("console-empty").create_bucket()
    page = console.open("/")
    page.get_by_role("button", name="Delete bucket console-empty").click()
    page.get_by_role("button", name="OK").click()
    page.get_by_role("link", name="console-empty", exact=True).wait_for(state="detached")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        console_clients.oss2_bucket("console-empty").get_bucket_info()


def test_a_key_sees_only_its_own_buckets(console_server, console_clients: Clients) -> None:
    from tests.support.keys import create_key

    console_clients.oss2_bucket("root-owned-bucket").create_bucket()
    other = create_key(console_server)
    Clients(other).oss2_bucket("other-owned-bucket").create_bucket()
    api = ConsoleApi(console_server, other.access_key_id, other.access_key_secret)
    api.sign_in()
    names = [b["name"] for b in api.get("/api/buckets").json()["buckets"]]
    assert names == ["other-owned-bucket"]
    refused = api.delete("/api/buckets/root-owned-bucket")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AccessDenied"
    missing = api.delete("/api/buckets/no-such-bucket-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NoSuchBucket"
