"""Part Management's JSON API over a signed-in session: paging in every order on both metadata
backends, Delete All as a server-side job that needs nobody watching, spares uploads started
after it, and is resumed after its process is killed; refusals of bad input."""

from __future__ import annotations

import concurrent.futures
import random
import time
from typing import Iterator

import oss2
import pytest

from tests.conftest import start_server
from tests.support.checks import assert_consistent
from tests.support.clients import Clients
from tests.support.console import ConsoleApi
from tests.support.server import TesseraServer

SORTS = ("key", "initiated", "last_part", "parts", "size")


def _uploads(bucket: oss2.Bucket) -> dict[str, str]:
    return {u.upload_id: u.key for u in oss2.MultipartUploadIterator(bucket)}


def _wait_for_job(api: ConsoleApi, bucket: str, job_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/api/buckets/{bucket}/jobs/{job_id}").json()["job"]
        if job["state"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_paging_in_every_order_never_repeats_or_skips_an_upload(server: TesseraServer, clients: Clients,
                                                                bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    rng = random.Random(5)
    for i in range(24):  # few distinct keys, part counts and sizes: ties everywhere
        key = f"k{rng.randrange(5)}/é{rng.randrange(3)}"
        upload_id = bucket.init_multipart_upload(key).upload_id
        for number in range(1, rng.randrange(0, 3) + 1):
            bucket.upload_part(key, upload_id, number, b"x" * rng.choice([1, 2]))
    listed = _uploads(bucket)
    api = ConsoleApi(server)
    api.sign_in()
    for sort, order, prefix in [(s, o, p) for s in SORTS for o in ("asc", "desc") for p in ("", "k1")]:
        seen: list[dict] = []
        cursor = None
        while True:
            params = {"sort": sort, "order": order, "limit": 5, "prefix": prefix,
                      **({"cursor": cursor} if cursor else {})}
            page = api.get(f"/api/buckets/{bucket_name}/uploads", params=params).json()
            seen += page["uploads"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids = [u["upload_id"] for u in seen]
        expected = {i for i, key in listed.items() if key.startswith(prefix)}
        assert len(ids) == len(set(ids)) and set(ids) == expected, (sort, order, prefix)
        field = {"key": "key", "initiated": "initiated_ms", "parts": "parts", "size": "bytes"}.get(sort)
        values = [(u[field] if field else (u["last_part_ms"] or u["initiated_ms"]), u["upload_id"]) for u in seen]
        if sort == "key":
            values = [(v.encode(), i) for v, i in values]  # byte order, as OSS lists keys
        assert values == sorted(values, reverse=order == "desc"), (sort, order, prefix)
        assert page["totals"]["uploads"] == len(expected)


def test_delete_all_finishes_with_nobody_watching_and_spares_uploads_started_after_it(
        console_api: ConsoleApi, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-job")
    bucket.create_bucket()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: bucket.init_multipart_upload(f"old/{i:03d}"), range(40)))
    upload_id = bucket.init_multipart_upload("old/with-part").upload_id
    bucket.upload_part("old/with-part", upload_id, 1, b"z" * 1000)
    bucket.init_multipart_upload("elsewhere/kept")

    answer = console_api.post("/api/buckets/parts-job/uploads/delete-all", json={"prefix": "old/"})
    assert answer.status_code == 202
    job = answer.json()["job"]
    assert (job["state"], job["total"]) == ("running", {"uploads": 41, "parts": 1, "bytes": 1000, "exact": True})
    late = bucket.init_multipart_upload("old/started-after").upload_id  # the user's new upload is theirs

    # Nobody polls: the server runs the job by itself.
    deadline = time.monotonic() + 20
    while set(_uploads(bucket).values()) != {"elsewhere/kept", "old/started-after"} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(_uploads(bucket).values()) == {"elsewhere/kept", "old/started-after"}
    done = _wait_for_job(console_api, "parts-job", job["job_id"])
    assert (done["state"], done["freed"], done["error"]) == ("done", {"uploads": 41, "parts": 1, "bytes": 1000, "exact": True}, None)
    assert late in _uploads(bucket)
    stat = bucket.get_bucket_stat()
    assert (stat.multi_part_upload_count, stat.multipart_part_count) == (2, 0)


@pytest.fixture
def slow_job_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """A server of the test's own whose jobs go 2 uploads a batch, so a test can kill it mid-job.
    On PostgreSQL, whose row locks the job's batches take (SQLite's single writer is covered by
    the other job tests and tests/test_part_management.py); two server starts are its cost."""
    server = start_server(tmp_path_factory, request, "postgresql", env={"TESSERA_JOB_BATCH": "2"})
    yield server
    server.stop()


def test_a_job_killed_mid_way_is_resumed_by_the_restarted_server(slow_job_server: TesseraServer) -> None:
    bucket = Clients(slow_job_server).oss2_bucket("parts-crash")
    bucket.create_bucket()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: bucket.init_multipart_upload(f"k/{i:03d}").upload_id, range(60)))
        list(pool.map(lambda item: bucket.upload_part(f"k/{item[0]:03d}", item[1], 1, b"p" * 100),
                      enumerate(ids[:12])))
    api = ConsoleApi(slow_job_server)
    api.sign_in()
    job = api.post("/api/buckets/parts-crash/uploads/delete-all", json={}).json()["job"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        progress = api.get(f"/api/buckets/parts-crash/jobs/{job['job_id']}").json()["job"]
        if progress["freed"]["uploads"] > 0:
            break
        time.sleep(0.01)
    slow_job_server.kill()  # kill -9, mid-way
    assert progress["state"] == "running" and 0 < progress["freed"]["uploads"] < 60, progress

    slow_job_server.start()
    api = ConsoleApi(slow_job_server)
    api.sign_in()
    done = _wait_for_job(api, "parts-crash", job["job_id"])
    # Each batch's deletions and progress commit together: nothing counted twice or missed.
    assert (done["state"], done["freed"]) == ("done", {"uploads": 60, "parts": 12, "bytes": 1200, "exact": True})
    assert _uploads(bucket) == {}
    stat = bucket.get_bucket_stat()
    assert (stat.multi_part_upload_count, stat.multipart_part_count, stat.storage_size_in_bytes) == (0, 0, 0)
    assert_consistent(slow_job_server)  # the parts of every deleted upload freed, nothing leaked


def test_delete_reports_uploads_already_gone_and_totals_count_a_selection(console_api: ConsoleApi,
                                                                         console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-select")
    bucket.create_bucket()
    first = bucket.init_multipart_upload("a").upload_id
    bucket.upload_part("a", first, 1, b"1" * 10)
    bucket.upload_part("a", first, 2, b"2" * 20)
    second = bucket.init_multipart_upload("b").upload_id
    base = "/api/buckets/parts-select/uploads"
    assert console_api.post(f"{base}/totals", json={"upload_ids": [first, second]}).json() == \
        {"uploads": 2, "parts": 2, "bytes": 30, "exact": True}
    bucket.abort_multipart_upload("b", second)  # gone meanwhile
    answer = console_api.post(f"{base}/delete", json={"upload_ids": [first, second]}).json()
    assert answer == {"freed": {"uploads": 1, "parts": 2, "bytes": 30, "exact": True}, "missing": [second]}
    assert _uploads(bucket) == {}


@pytest.fixture(scope="module")
def bad_bucket(console_server: TesseraServer) -> str:
    Clients(console_server).oss2_bucket("parts-bad").create_bucket()
    return "parts-bad"


@pytest.mark.parametrize("path, params, code", [
    ("/api/buckets/parts-bad/uploads", {"sort": "colour"}, "InvalidArgument"),
    ("/api/buckets/parts-bad/uploads", {"order": "sideways"}, "InvalidArgument"),
    ("/api/buckets/parts-bad/uploads", {"cursor": "bm90IGEgY3Vyc29y"}, "InvalidArgument"),
    ("/api/buckets/parts-bad/uploads", {"limit": "100000"}, "InvalidArgument"),
    ("/api/buckets/parts-bad/uploads/NOSUCHUPLOAD/parts", {}, "NoSuchUpload"),
    ("/api/buckets/parts-bad/jobs/NOSUCHJOB", {}, "NoSuchJob"),
    ("/api/buckets/no-such-bucket-here/uploads", {}, "NoSuchBucket"),
])
def test_bad_requests_are_refused_with_a_reason(console_api: ConsoleApi, bad_bucket: str, path: str,
                                                params: dict, code: str) -> None:
    answer = console_api.get(path, params=params)
    assert 400 <= answer.status_code < 500 and answer.json()["error"]["code"] == code


def test_a_cursor_of_another_order_is_refused(console_api: ConsoleApi, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-cursor")
    bucket.create_bucket()
    for key in ("a", "b", "c"):
        bucket.init_multipart_upload(key)
    page = console_api.get("/api/buckets/parts-cursor/uploads", params={"sort": "key", "limit": 1}).json()
    other = console_api.get("/api/buckets/parts-cursor/uploads",
                            params={"sort": "size", "limit": 1, "cursor": page["next_cursor"]})
    assert other.status_code == 400 and "another sort order" in other.json()["error"]["message"]


def test_deleting_needs_the_csrf_token(console_api: ConsoleApi, console_clients: Clients) -> None:
    bucket = console_clients.oss2_bucket("parts-csrf")
    bucket.create_bucket()
    upload_id = bucket.init_multipart_upload("k").upload_id
    for path, body in (("/api/buckets/parts-csrf/uploads/delete", {"upload_ids": [upload_id]}),
                       ("/api/buckets/parts-csrf/uploads/delete-all", {})):
        answer = console_api.post(path, json=body, csrf=False)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "InvalidCsrfToken"
    assert upload_id in _uploads(bucket)
