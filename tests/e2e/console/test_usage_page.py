"""The Usage page in a real browser, and its JSON: storage over time, incomplete uploads by age,
the uploads holding the most part storage and the cost of a period — charts that load as
images, tables that name the uploads, a custom period, a bucket filter, keys shown as text, and
other owners' buckets kept out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.clients import Clients
from tests.support.console import ConsoleApi, ConsoleBrowser
from tests.support.keys import create_key
from tests.support.server import TesseraServer

HOSTILE = "<img src=x onerror=alert(1)>"
KiB, MiB = 1024, 1024 * 1024
CHARTS = ("chart-storage", "chart-ages", "chart-top-uploads", "chart-cost")


@pytest.fixture(scope="module")
def stocked(console_server: TesseraServer) -> str:
    """A bucket with two objects and three incomplete uploads, "big.bin" the largest."""
    bucket = Clients(console_server).oss2_bucket("usage-charts")
    bucket.create_bucket()
    bucket.put_object("photo.jpg", b"p" * (300 * KiB))
    bucket.put_object("cold.log", b"c" * 10, headers={"x-oss-storage-class": "IA"})
    for key, sizes in (("big.bin", [MiB, MiB]), ("small.bin", [100 * KiB]), (HOSTILE, [200 * KiB])):
        upload_id = bucket.init_multipart_upload(key).upload_id
        for number, size in enumerate(sizes, start=1):
            bucket.upload_part(key, upload_id, number, b"u" * size)
    return bucket.bucket_name


def _chart_loaded(page: Any, chart_id: str) -> int:
    chart = page.locator(f"#{chart_id}")
    chart.wait_for()
    page.wait_for_function("id => { const i = document.getElementById(id); return i.complete; }", arg=chart_id)
    return int(page.evaluate("id => document.getElementById(id).naturalWidth", chart_id))


def _svg(console: ConsoleBrowser, chart_id: str) -> str:
    source = console.page.locator(f"#{chart_id}").get_attribute("src")
    answer = console.page.request.get(console.server.endpoint + source)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script" not in policy  # opened alone: still no script
    assert answer.headers["x-content-type-options"] == "nosniff"
    return answer.text()


def test_the_usage_page_shows_charts_names_the_biggest_upload_and_keeps_keys_as_text(
        stocked: str, console: ConsoleBrowser) -> None:
    page = console.open("/usage?bucket=usage-charts")
    assert page.get_by_role("heading", name="Usage: usage-charts").is_visible()
    for chart in CHARTS:
        assert _chart_loaded(page, chart) > 0, chart
    storage = _svg(console, "chart-storage")
    assert "Objects · Standard" in storage and "Objects · IA" in storage and "Parts · Standard" in storage
    assert "<script" not in storage
    assert "Incomplete uploads by age: usage-charts" in _svg(console, "chart-ages")

    table = page.get_by_role("table", name="Uploads holding the most part storage")
    first = [c.strip() for c in table.get_by_role("row").nth(1).get_by_role("cell").all_inner_texts()]
    assert (first[0], first[2], first[4], first[5]) == ("big.bin", "usage-charts", "2", "2.0 MiB")
    link = table.get_by_role("link", name="big.bin")
    assert link.get_attribute("href") == "/-/console/buckets/usage-charts/parts?prefix=big.bin"
    costs = page.get_by_role("table", name="Cost per bucket, storage class and kind")
    assert costs.get_by_role("row").filter(has_text="Parts").count() == 1

    # A key of markup is text, in the page and in the chart (an image, which runs nothing anyway).
    assert table.get_by_role("link", name=HOSTILE, exact=True).is_visible()
    assert page.locator("img[src='x']").count() == 0
    top = _svg(console, "chart-top-uploads")
    assert "&lt;img src=x onerror=alert(1)&gt;" in top and HOSTILE not in top and "<script" not in top
    console.screenshot("usage-bucket")

    # Opened alone, a chart is styled by its own stylesheet (a refused one would be logged).
    page.goto(console.server.endpoint + page.locator("#chart-top-uploads").get_attribute("src"))
    assert page.locator("svg .title").first.text_content() == "Uploads holding the most part storage: usage-charts"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.title')).fontSize") == "18px"


def test_a_custom_period_shows_its_dates_and_a_backwards_one_says_why(stocked: str, console: ConsoleBrowser) -> None:
    page = console.open("/usage?bucket=usage-charts")
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2020-01-31")
    assert page.get_by_label("Period", exact=True).input_value() == "custom"  # picking dates means a custom period
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/usage?*period=custom*")
    assert "2020-01-01 to 2020-01-31" in page.locator("p.summary").inner_text()
    assert page.get_by_label("From", exact=True).input_value() == "2020-01-01"
    for chart in CHARTS:
        assert _chart_loaded(page, chart) > 0, chart
    assert "Nothing was stored in this period" in _svg(console, "chart-storage")
    assert "Nothing was billed in this period" in _svg(console, "chart-cost")
    console.screenshot("usage-custom-period")

    page.get_by_label("From", exact=True).fill("2020-02-02")
    page.get_by_label("To", exact=True).fill("2020-02-01")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("alert").filter(has_text="The period's end (to) must be later than its start (from).").wait_for()
    assert page.get_by_label("From", exact=True).input_value() == "2020-02-02"
    console.screenshot("usage-backwards-period")


def test_the_bucket_filter_keeps_to_one_bucket(stocked: str, console: ConsoleBrowser, console_clients: Clients) -> None:
    other = console_clients.oss2_bucket("usage-other")
    other.create_bucket()
    other.init_multipart_upload("elsewhere.bin")
    page = console.open("/usage")
    everyone = page.get_by_role("table", name="Uploads holding the most part storage")
    assert everyone.get_by_role("cell", name="usage-other", exact=True).count() >= 1
    console.screenshot("usage-all-buckets")
    page.get_by_label("Bucket", exact=True).select_option("usage-other")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/usage?*bucket=usage-other*")
    assert page.get_by_role("heading", name="Usage: usage-other").is_visible()
    table = page.get_by_role("table", name="Uploads holding the most part storage")
    buckets = {c.strip() for c in table.locator("tbody td:nth-child(3)").all_inner_texts()}
    assert buckets == {"usage-other"}
    assert "Incomplete uploads by age: usage-other" in _svg(console, "chart-ages")


def test_usage_report_json(stocked: str, console_api: ConsoleApi) -> None:
    answer = console_api.get("/api/usage/report", params={"period": "24h", "bucket": "usage-charts"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["period"]["choice"] == "24h" and report["bucket"] == "usage-charts"
    kinds = {(line["kind"], line["storage_class"]) for line in report["usage"]["lines"]}
    assert {("object", "Standard"), ("object", "IA"), ("part", "Standard")} <= kinds
    assert report["usage"]["uploads"][0]["key"] == "big.bin"
    incomplete = report["incomplete_uploads"]
    assert incomplete["uploads_total"] == 3 and incomplete["uploads"][0]["bytes"] == 2 * MiB
    assert incomplete["ages"][0]["bands"][0]["uploads"] == 3


@pytest.mark.parametrize("query, field", [
    ({"period": "fortnight"}, "period"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
    ({"period": "custom", "from": "2026-03-01"}, "to"),
])
def test_a_bad_period_is_a_console_error(console_api: ConsoleApi, query: dict[str, str], field: str) -> None:
    for path in ("/api/usage/report", "/api/usage/storage", "/charts/storage.svg"):
        answer = console_api.get(path, params=query)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"]["code"] == "InvalidPeriod" and answer.json()["error"]["field"] == field


def test_stored_bytes_over_time_json(stocked: str, console_api: ConsoleApi) -> None:
    answer = console_api.get("/api/usage/storage", params={"bucket": "usage-charts", "points": "5"})
    assert answer.status_code == 200, answer.text
    series = answer.json()
    assert len(series["instants"]) == 5
    now = {(line["kind"], line["storage_class"]): line["bytes"][-1] for line in series["lines"]}
    assert now == {("object", "Standard"): 300 * KiB, ("object", "IA"): 10, ("part", "Standard"): 2 * MiB + 300 * KiB}
    (ia,) = [line for line in series["lines"] if line["storage_class"] == "IA"]
    assert ia["billed_bytes"][-1] == 64 * KiB
    assert console_api.get("/api/usage/storage", params={"points": "1"}).json()["error"]["field"] == "points"


def test_a_missing_bucket_is_404(console_api: ConsoleApi) -> None:
    answer = console_api.get("/api/usage/report", params={"bucket": "no-such-usage-bucket"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "NoSuchBucket")


def test_charts_need_a_session(console_server: TesseraServer) -> None:
    import requests

    answer = requests.get(console_server.endpoint + "/-/console/charts/storage.svg", timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "NotSignedIn")


def test_another_key_sees_only_its_own_buckets(stocked: str, console_server: TesseraServer) -> None:
    other = create_key(console_server)
    api = ConsoleApi(console_server, other.access_key_id, other.access_key_secret)
    assert api.sign_in().status_code == 200
    assert api.post("/api/buckets", json={"name": "usage-theirs"}).status_code == 201
    mine = Clients(other).oss2_bucket("usage-theirs")
    mine.put_object("theirs.txt", b"t" * 1000)
    mine.init_multipart_upload("theirs.bin")

    report = api.get("/api/usage/report").json()
    assert {line["bucket"] for line in report["usage"]["lines"]} == {"usage-theirs"}
    assert {u["bucket"] for u in report["incomplete_uploads"]["uploads"]} == {"usage-theirs"}
    refused = api.get("/api/usage/report", params={"bucket": "usage-charts"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "AccessDenied")
    assert api.get("/charts/ages.svg", params={"bucket": "usage-charts"}).status_code == 403
    page = api.get("/usage", headers={"Accept": "text/html"})
    assert "usage-theirs" in page.text and "usage-charts" not in page.text


def test_usage_json_on_both_metadata_backends(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("a", b"a" * 1000)
    bucket.put_object("b", b"b" * 24, headers={"x-oss-storage-class": "Archive"})
    upload_id = bucket.init_multipart_upload("half").upload_id
    bucket.upload_part("half", upload_id, 1, b"h" * 500)
    api = ConsoleApi(server)
    assert api.sign_in().status_code == 200
    series = api.get("/api/usage/storage", params={"bucket": bucket_name, "points": "3"}).json()
    assert {(x["kind"], x["storage_class"]): (x["bytes"], x["billed_bytes"]) for x in series["lines"]} == {
        ("object", "Standard"): ([0, 0, 1000], [0, 0, 1000]),
        ("object", "Archive"): ([0, 0, 24], [0, 0, 64 * KiB]),
        ("part", "Standard"): ([0, 0, 500], [0, 0, 500]),
    }
    report = api.get("/api/usage/report", params={"bucket": bucket_name, "period": "7d"}).json()
    assert [u["upload_id"] for u in report["usage"]["uploads"]] == [upload_id]
    assert report["incomplete_uploads"]["uploads"][0]["bytes"] == 500
    assert report["incomplete_uploads"]["uploads_total"] == 1
    assert api.get("/charts/top-uploads.svg", params={"bucket": bucket_name}).status_code == 200


@pytest.mark.parametrize("query", [
    {"from": "0001-01-01", "to": "9999-12-31"},
    {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59.999Z", "points": "500"},
    {"period": "30d", "bucket": "\x00<b>"},
])
def test_the_ends_of_the_calendar_and_odd_names_are_answers_not_errors(console_api: ConsoleApi,
                                                                        query: dict[str, str]) -> None:
    missing = "bucket" in query
    for path in ("/usage", "/api/usage/report", "/api/usage/storage", "/charts/storage.svg", "/charts/ages.svg",
                 "/charts/top-uploads.svg", "/charts/cost.svg"):
        answer = console_api.get(path, params=query)
        assert answer.status_code == (404 if missing else 200), (path, answer.status_code, answer.text[:300])
