"""Cold objects (Archive, ColdArchive, DeepColdArchive): frozen until restored, readable while
restored, frozen again when the restored copy expires — driven through oss2, v2 and raw requests
against a server whose restores take seconds (--restore-delay) and whose days are seconds long
(--restore-day)."""

from __future__ import annotations

import datetime
import email.utils
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import PartInfo, RestoreConfiguration, RestoreJobParameters

from tests.conftest import BACKENDS, start_server
from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

DELAY = 1.5  # seconds until a restore is readable (every class and tier but the slow one)
SLOW = 120  # ColdArchive/Bulk: a restore that only a faster tier finishes within a test
DAY = 6.0  # seconds a day of restored state lasts
COLD = ["Archive", "ColdArchive", "DeepColdArchive"]
TIERS = {"Archive": [None], "ColdArchive": ["Expedited", "Standard"], "DeepColdArchive": ["Expedited", "Standard"]}
DATA = os.urandom(3000)
MESSAGE = "The operation is not valid for the object's state."


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """This module's own server, per backend: restores take DELAY seconds and days last DAY."""
    server = start_server(tmp_path_factory, request, request.param, extra_args=(
        "--restore-delay", str(DELAY), "--restore-delay", f"ColdArchive/Bulk={SLOW}", "--restore-day", str(DAY)))
    yield server
    server.stop()


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def put(bucket: oss2.Bucket, key: str, storage_class: str, data: bytes = DATA) -> None:
    bucket.put_object(key, data, headers={"x-oss-storage-class": storage_class})


def restore(bucket: oss2.Bucket, key: str, days: int = 1, tier: str | None = None) -> int:
    job = RestoreJobParameters(tier) if tier else None
    return bucket.restore_object(key, input=RestoreConfiguration(days, job)).status


def restore_state(bucket: oss2.Bucket, key: str) -> str | None:
    return bucket.head_object(key).headers.get("x-oss-restore")


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def restored(bucket: oss2.Bucket, key: str) -> bool:
    return (restore_state(bucket, key) or "").startswith('ongoing-request="false"')


def expiry(header: str) -> float:
    """The expiry-date of ``ongoing-request="false", expiry-date="<RFC 1123>"``, in epoch seconds."""
    prefix = 'ongoing-request="false", expiry-date="'
    assert header.startswith(prefix) and header.endswith('"'), header
    return email.utils.parsedate_to_datetime(header[len(prefix):-1]).timestamp()


def refused(call: Callable[[], Any]) -> oss2.exceptions.OssError:
    with pytest.raises(oss2.exceptions.OssError) as error:
        call()
    return error.value


def assert_frozen(bucket: oss2.Bucket, key: str) -> None:
    error = refused(lambda: bucket.get_object(key))
    assert (error.status, error.code, error.message) == (403, "InvalidObjectState", MESSAGE)


# --- frozen objects -----------------------------------------------------------------------

@pytest.mark.parametrize("storage_class", COLD)
def test_a_cold_object_is_frozen_its_metadata_readable_its_bytes_not(bucket: oss2.Bucket,
                                                                   storage_class: str) -> None:
    put(bucket, "cold", storage_class)
    head = bucket.head_object("cold")
    assert head.headers["x-oss-storage-class"] == storage_class and "x-oss-restore" not in head.headers
    assert head.content_length == len(DATA)
    assert bucket.get_object_meta("cold").content_length == len(DATA)
    assert_frozen(bucket, "cold")
    ranged = refused(lambda: bucket.get_object("cold", byte_range=(0, 9), headers={"x-oss-range-behavior": "standard"}))
    assert (ranged.status, ranged.code) == (403, "InvalidObjectState")
    copy = refused(lambda: bucket.copy_object(bucket.bucket_name, "cold", "copy"))
    assert (copy.status, copy.code) == (403, "InvalidObjectState")
    to_standard = refused(lambda: bucket.copy_object(bucket.bucket_name, "cold", "cold", headers={
        "x-oss-storage-class": "Standard", "x-oss-metadata-directive": "REPLACE"}))
    assert (to_standard.status, to_standard.code) == (403, "InvalidObjectState")
    upload_id = bucket.init_multipart_upload("assembled").upload_id
    part = refused(lambda: bucket.upload_part_copy(bucket.bucket_name, "cold", (0, 99), "assembled", upload_id, 1))
    assert (part.status, part.code) == (403, "InvalidObjectState")
    assert not bucket.object_exists("copy")
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["cold"]
    bucket.delete_object("cold")  # a frozen object can be deleted
    assert not bucket.object_exists("cold")


def test_v2_reads_of_a_frozen_object_are_refused_with_invalid_object_state(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    client.put_object(oss.PutObjectRequest(bucket=bucket_name, key="k", body=DATA, storage_class="ColdArchive"))
    with pytest.raises(oss.exceptions.OperationError) as error:
        client.get_object(oss.GetObjectRequest(bucket=bucket_name, key="k"))
    service = error.value.unwrap()
    assert (service.status_code, service.code, service.message) == (403, "InvalidObjectState", MESSAGE)
    assert client.head_object(oss.HeadObjectRequest(bucket=bucket_name, key="k")).restore is None


def test_objects_in_a_cold_bucket_are_frozen_too(clients: Clients) -> None:
    bucket = clients.oss2_bucket(f"cold-{os.getpid()}-{time.monotonic_ns() % 10**6}")
    bucket.create_bucket(oss2.BUCKET_ACL_PRIVATE, oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_ARCHIVE))
    bucket.put_object("k", DATA)
    assert bucket.head_object("k").headers["x-oss-storage-class"] == "Archive"
    assert_frozen(bucket, "k")


@pytest.mark.parametrize("storage_class", ["Standard", "IA"])
def test_warm_objects_are_read_as_always_and_cannot_be_restored(bucket: oss2.Bucket, storage_class: str) -> None:
    put(bucket, "warm", storage_class)
    assert bucket.get_object("warm").read() == DATA
    assert "x-oss-restore" not in bucket.head_object("warm").headers
    with pytest.raises(oss2.exceptions.OperationNotSupported) as error:
        restore(bucket, "warm")
    assert error.value.status == 400


# --- restoring ----------------------------------------------------------------------------

def test_oss2_restores_each_class_and_tier(bucket: oss2.Bucket) -> None:
    keys = {f"{c}/{t}": (c, t) for c in COLD for t in TIERS[c]}
    for key, (storage_class, _) in keys.items():
        put(bucket, key, storage_class, key.encode() * 10)
    started = time.time()
    for key, (_, tier) in keys.items():
        assert restore(bucket, key, days=3, tier=tier) == 202
    for key, (storage_class, tier) in keys.items():
        assert restore_state(bucket, key) == 'ongoing-request="true"'
        assert_frozen(bucket, key)
        with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress) as again:
            restore(bucket, key, tier=tier)
        assert again.value.status == 409
    listed = {o.key: o.restore_info for o in oss2.ObjectIterator(bucket)}
    assert listed == {key: 'ongoing-request="true"' for key in keys}
    for key in keys:
        wait_until(lambda: restored(bucket, key))
    for key in keys:
        assert bucket.get_object(key).read() == key.encode() * 10
        assert bucket.get_object(key, byte_range=(0, 3)).read() == key.encode()[:4]
        get = bucket.get_object(key)
        assert get.headers["x-oss-restore"].startswith('ongoing-request="false"')
        # Ready DELAY after the request, readable for three days from then (second precision).
        assert started + DELAY + 3 * DAY - 1 <= expiry(get.headers["x-oss-restore"]) <= time.time() + 3 * DAY + 1
    listed = {o.key: o.restore_info for o in oss2.ObjectIterator(bucket)}
    assert all(info.startswith('ongoing-request="false", expiry-date="') for info in listed.values())


def test_restoring_a_restored_object_answers_200_and_extends_it(bucket: oss2.Bucket) -> None:
    put(bucket, "k", "ColdArchive")
    assert bucket.restore_object("k").status == 202  # no body: one day, Standard priority
    wait_until(lambda: restored(bucket, "k"))
    first = expiry(restore_state(bucket, "k"))
    result = bucket.restore_object("k", input=RestoreConfiguration(3, RestoreJobParameters("Bulk")))
    assert result.status == 200
    extended = expiry(restore_state(bucket, "k"))
    assert extended >= time.time() + 3 * DAY - 2 > first
    assert restore(bucket, "k", days=1) == 200  # never shortened
    assert expiry(restore_state(bucket, "k")) == extended
    assert bucket.get_object("k").read() == DATA


def test_a_slow_restore_is_sped_up_by_a_faster_tier_only(bucket: oss2.Bucket) -> None:
    put(bucket, "k", "ColdArchive")
    assert restore(bucket, "k", tier="Bulk") == 202
    time.sleep(DELAY + 0.5)
    assert restore_state(bucket, "k") == 'ongoing-request="true"'  # Bulk takes SLOW seconds here
    with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress):
        restore(bucket, "k", tier="Bulk")
    assert restore(bucket, "k", tier="Expedited") == 202
    with pytest.raises(oss2.exceptions.RestoreAlreadyInProgress):
        restore(bucket, "k")  # no JobParameters: Standard, slower than Expedited now
    wait_until(lambda: restored(bucket, "k"), timeout=DELAY + 15)
    assert bucket.get_object("k").read() == DATA


def test_v2_restores_and_reads_each_cold_class(clients: Clients, bucket_name: str) -> None:
    for signature in ("v4", "v1"):
        client = clients.v2(signature)
        for storage_class in COLD:
            key = f"{signature}/{storage_class}"
            client.put_object(oss.PutObjectRequest(bucket=bucket_name, key=key, body=DATA,
                                                   storage_class=storage_class))
            tier = None if storage_class == "Archive" else "Expedited"
            request = oss.RestoreObjectRequest(bucket=bucket_name, key=key, restore_request=oss.RestoreRequest(
                days=2, job_parameters=oss.JobParameters(tier=tier) if tier else None))
            result = client.restore_object(request)
            assert result.status_code == 202 and result.restore_priority == tier
            head = client.head_object(oss.HeadObjectRequest(bucket=bucket_name, key=key))
            assert head.restore == 'ongoing-request="true"'
            listed = client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket_name, prefix=key))
            assert [(o.key, o.restore_info) for o in listed.contents] == [(key, 'ongoing-request="true"')]
            with pytest.raises(oss.exceptions.OperationError) as again:
                client.restore_object(request)
            assert (again.value.unwrap().status_code, again.value.unwrap().code) == (409, "RestoreAlreadyInProgress")

            def ready() -> bool:
                state = client.head_object(oss.HeadObjectRequest(bucket=bucket_name, key=key)).restore
                return (state or "").startswith('ongoing-request="false"')

            wait_until(ready)
            assert client.get_object(oss.GetObjectRequest(bucket=bucket_name, key=key)).body.read() == DATA
            assert client.restore_object(request).status_code == 200


def test_restored_objects_can_be_copied_and_copied_from(bucket: oss2.Bucket) -> None:
    put(bucket, "cold", "Archive", DATA * 100)
    restore(bucket, "cold", days=3)
    wait_until(lambda: restored(bucket, "cold"))
    bucket.copy_object(bucket.bucket_name, "cold", "warm", headers={"x-oss-storage-class": "Standard",
                                                                     "x-oss-metadata-directive": "REPLACE"})
    assert bucket.get_object("warm").read() == DATA * 100
    upload_id = bucket.init_multipart_upload("assembled").upload_id
    part = bucket.upload_part_copy(bucket.bucket_name, "cold", (0, len(DATA) - 1), "assembled", upload_id, 1)
    bucket.complete_multipart_upload("assembled", upload_id, [PartInfo(1, part.etag)])
    assert bucket.get_object("assembled").read() == DATA
    # Copied onto itself as Standard while restored, it needs no restore ever again.
    bucket.copy_object(bucket.bucket_name, "cold", "cold", headers={"x-oss-storage-class": "Standard",
                                                                     "x-oss-metadata-directive": "REPLACE"})
    head = bucket.head_object("cold")
    assert head.headers["x-oss-storage-class"] == "Standard" and "x-oss-restore" not in head.headers
    assert bucket.get_object("cold").read() == DATA * 100


def test_an_overwritten_object_is_frozen_again(bucket: oss2.Bucket) -> None:
    put(bucket, "k", "Archive")
    restore(bucket, "k")
    wait_until(lambda: restored(bucket, "k"))
    put(bucket, "k", "Archive", b"new")
    assert restore_state(bucket, "k") is None
    assert_frozen(bucket, "k")


def test_the_restored_copy_expires_and_the_object_is_frozen_again(bucket: oss2.Bucket) -> None:
    put(bucket, "k", "DeepColdArchive")
    assert restore(bucket, "k", tier="Standard") == 202
    wait_until(lambda: restored(bucket, "k"))
    assert bucket.get_object("k").read() == DATA
    until = expiry(restore_state(bucket, "k"))
    wait_until(lambda: restore_state(bucket, "k") is None, timeout=DAY + 10)
    assert time.time() >= until - 1
    assert_frozen(bucket, "k")
    assert restore(bucket, "k", tier="Expedited") == 202  # restored afresh
    assert restore_state(bucket, "k") == 'ongoing-request="true"'


def test_restores_hold_across_a_restart(server: TesseraServer, bucket: oss2.Bucket) -> None:
    put(bucket, "k", "Archive")
    restore(bucket, "k", days=7)  # longer than a restart takes
    server.restart()
    wait_until(lambda: restored(bucket, "k"))
    assert bucket.get_object("k").read() == DATA


def test_concurrent_restores_start_one_restore(clients: Clients, bucket: oss2.Bucket) -> None:
    put(bucket, "k", "ColdArchive")

    def attempt(_: int) -> int:
        own = clients.oss2_bucket(bucket.bucket_name)  # its own connection
        try:
            return restore(own, "k", tier="Standard")
        except oss2.exceptions.RestoreAlreadyInProgress as busy:
            return busy.status

    with ThreadPoolExecutor(8) as pool:
        answers = sorted(pool.map(attempt, range(16)))
    assert answers == [202] + [409] * 15


@pytest.fixture(scope="module", params=BACKENDS)
def two_workers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    server = start_server(tmp_path_factory, request, request.param, workers=2,
                          extra_args=("--restore-delay", str(DELAY), "--restore-day", str(DAY)))
    yield server
    server.stop()


def test_every_worker_sees_the_same_restore(two_workers: TesseraServer) -> None:
    clients = Clients(two_workers)
    name = f"workers-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    clients.oss2_bucket(name).create_bucket()
    put(clients.oss2_bucket(name), "k", "Archive")
    assert restore(clients.oss2_bucket(name), "k", days=7) == 202

    def fresh() -> oss2.Bucket:  # a new connection each time: any worker may answer
        return oss2.Bucket(clients.oss2_auth(), two_workers.endpoint, name, session=oss2.Session())

    assert {restore_state(fresh(), "k") for _ in range(10)} == {'ongoing-request="true"'}
    wait_until(lambda: restored(fresh(), "k"))
    assert all(fresh().get_object("k").read() == DATA for _ in range(10))


# --- refused requests ---------------------------------------------------------------------

def restore_raw(server: TesseraServer, bucket: str, key: str, body: bytes) -> raw.RawResponse:
    return raw.request(server, "POST", bucket, key, query={"restore": ""}, body=body,
                       headers={"Content-Type": "application/xml"})


@pytest.mark.parametrize(("storage_class", "body"), [
    ("Archive", b"<RestoreRequest><Days>8</Days></RestoreRequest>"),
    ("Archive", b"<RestoreRequest><Days>0</Days></RestoreRequest>"),
    ("ColdArchive", b"<RestoreRequest><Days>366</Days></RestoreRequest>"),
    ("DeepColdArchive", b"<RestoreRequest><Days>-1</Days></RestoreRequest>"),
    ("Archive", b"<RestoreRequest><Days>a</Days></RestoreRequest>"),
    ("Archive", b"<RestoreRequest><Days>" + b"9" * 5000 + b"</Days></RestoreRequest>"),
    ("ColdArchive", b"<RestoreRequest><Days>2</Days><JobParameters><Tier>Test</Tier></JobParameters></RestoreRequest>"),
    ("DeepColdArchive", b"<RestoreRequest><Days>2</Days><JobParameters><Tier>Bulk</Tier></JobParameters>"
                        b"</RestoreRequest>"),
    ("ColdArchive", b"<RestoreRequest><Days>2</Days><Unknown></Unknown></RestoreRequest>"),
    ("ColdArchive", b"<Restore><Days>2</Days></Restore>"),
    ("ColdArchive", b"<RestoreRequest><Days>2</Days>"),
    ("ColdArchive", b"not xml"),
])
def test_malformed_restore_requests_are_refused_and_change_nothing(server: TesseraServer, bucket: oss2.Bucket,
                                                                   storage_class: str, body: bytes) -> None:
    put(bucket, "k", storage_class)
    answer = restore_raw(server, bucket.bucket_name, "k", body)
    assert (answer.status, answer.code) == (400, "MalformedXML")
    assert restore_state(bucket, "k") is None


def test_restores_of_missing_objects_and_buckets(server: TesseraServer, bucket: oss2.Bucket) -> None:
    with pytest.raises(oss2.exceptions.NoSuchKey):
        restore(bucket, "missing")
    answer = restore_raw(server, "no-such-bucket-zz", "k", b"")
    assert (answer.status, answer.code) == (404, "NoSuchBucket")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("missing")


def test_restore_is_served_only_as_post(server: TesseraServer, bucket: oss2.Bucket) -> None:
    """The other methods with ?restore are refused, never served as GetObject, PutObject or
    DeleteObject (docs/compatibility.md, Sub-resources)."""
    put(bucket, "k", "Archive")
    for method in ("GET", "PUT", "DELETE", "HEAD"):
        answer = raw.request(server, method, bucket.bucket_name, "k", query={"restore": ""}, body=b"x" * 10)
        assert answer.status == 400 and (method == "HEAD" or answer.code == "NotImplemented")
    assert bucket.head_object("k").content_length == len(DATA) and restore_state(bucket, "k") is None


# --- CleanRestoredObject --------------------------------------------------------------------

def test_v2_clean_restored_object_freezes_a_restored_object(clients: Clients, bucket: oss2.Bucket) -> None:
    for signature in ("v4", "v1"):
        client = clients.v2(signature)
        key = f"clean/{signature}"
        put(bucket, key, "ColdArchive")
        request = oss.CleanRestoredObjectRequest(bucket=bucket.bucket_name, key=key)

        def clean_error() -> tuple[int, str]:
            with pytest.raises(oss.exceptions.OperationError) as error:
                client.clean_restored_object(request)
            return error.value.unwrap().status_code, error.value.unwrap().code

        assert clean_error() == (409, "ArchiveRestoreFileStale")
        restore(bucket, key, days=3, tier="Expedited")
        assert clean_error() == (409, "ArchiveRestoreNotFinished")
        wait_until(lambda: restored(bucket, key))
        assert client.clean_restored_object(request).status_code == 200
        assert restore_state(bucket, key) is None
        assert_frozen(bucket, key)
        assert clean_error() == (409, "ArchiveRestoreFileStale")
    put(bucket, "warm", "Standard")
    with pytest.raises(oss.exceptions.OperationError) as warm:
        clients.v2().clean_restored_object(oss.CleanRestoredObjectRequest(bucket=bucket.bucket_name, key="warm"))
    assert (warm.value.unwrap().status_code, warm.value.unwrap().code) == (400, "OperationNotSupported")
    with pytest.raises(oss.exceptions.OperationError) as missing:
        clients.v2().clean_restored_object(oss.CleanRestoredObjectRequest(bucket=bucket.bucket_name, key="gone"))
    assert missing.value.unwrap().code == "NoSuchKey"


# --- lifecycle ------------------------------------------------------------------------------

def lifecycle_run(server: TesseraServer, bucket: str, at: float, *extra: str) -> dict[str, Any]:
    instant = datetime.datetime.fromtimestamp(at, tz=datetime.timezone.utc).isoformat()
    done = server.admin("lifecycle", "run", "--bucket", bucket, "--now", instant, "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def expired_outcomes(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in report["outcomes"] if o["action"] == "RestoreExpired"]


def test_an_object_a_rule_moved_to_archive_is_frozen_and_restored_with_its_bytes(server: TesseraServer,
                                                                                 bucket: oss2.Bucket) -> None:
    bucket.put_bucket_lifecycle(oss2.models.BucketLifecycle([oss2.models.LifecycleRule(
        "freeze", "", status="Enabled", storage_transitions=[oss2.models.StorageTransition(
            days=1, storage_class="Archive")])]))
    bucket.put_object("k", DATA)
    report = lifecycle_run(server, bucket.bucket_name, time.time() + 2 * 86_400)
    assert [o["matched"] for o in report["outcomes"] if o["action"] == "Transition:Archive"] == [1]
    assert_frozen(bucket, "k")
    assert restore(bucket, "k", days=3) == 202
    wait_until(lambda: restored(bucket, "k"))
    assert bucket.get_object("k").read() == DATA


def test_lifecycle_runs_end_expired_restores(server: TesseraServer, bucket: oss2.Bucket) -> None:
    for key in ("a", "b"):
        put(bucket, key, "Archive")
        restore(bucket, key, days=7)  # readable for longer than the admin commands below take
    put(bucket, "frozen", "Archive")
    wait_until(lambda: restored(bucket, "a") and restored(bucket, "b"))

    assert expired_outcomes(lifecycle_run(server, bucket.bucket_name, time.time())) == []  # not expired yet
    later = time.time() + 10 * DAY
    preview = expired_outcomes(lifecycle_run(server, bucket.bucket_name, later, "--dry-run"))
    [named] = preview
    items = named.pop("items")
    assert named == {"bucket": bucket.bucket_name, "rule_id": "", "action": "RestoreExpired", "matched": 2,
                     "parts": 0, "bytes": 2 * len(DATA), "truncated": False}
    assert [(i["key"], i["bytes"], i["upload_id"]) for i in items] == [("a", len(DATA), None), ("b", len(DATA), None)]
    assert all(0 < i["age_ms"] < 10 * DAY * 1000 for i in items), items  # since the copy expired
    assert restored(bucket, "a")  # a dry run changes nothing

    done = expired_outcomes(lifecycle_run(server, bucket.bucket_name, later, "--batch-size", "1"))
    assert [(o["matched"], o["bytes"], sorted(i["key"] for i in o["items"])) for o in done] == [
        (2, 2 * len(DATA), ["a", "b"])]
    assert restore_state(bucket, "a") is None and restore_state(bucket, "b") is None
    assert_frozen(bucket, "a")
    assert expired_outcomes(lifecycle_run(server, bucket.bucket_name, later)) == []  # nothing left to end
    log = server.admin("lifecycle", "log")
    assert log.returncode == 0 and "RestoreExpired" in log.stdout


def test_serve_refuses_restore_delays_that_name_nothing(tmp_path: Path) -> None:
    for value, message in (("Glacier=60", "no restore delay is named 'Glacier'"), ("soon", "expected a number")):
        done = subprocess.run([sys.executable, "-m", "tessera", "serve", "--data-dir", str(tmp_path / "data"),
                               "--port", "0", "--restore-delay", value], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was touched
