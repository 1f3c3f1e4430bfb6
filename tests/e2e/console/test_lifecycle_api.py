"""The Lifecycle page's JSON API: rules saved through it are what GetBucketLifecycle returns,
refusals are 400s naming the field, previews name what they would act on and save nothing, and
the run log says what each run did in the bucket."""

from __future__ import annotations

import datetime
import time
from urllib.parse import quote

import oss2
import pytest

from tests.support.clients import Clients
from tests.support.console import ConsoleApi
from tests.support.keys import create_key

DAY = 86_400


def lifecycle(bucket: str) -> str:
    return f"/api/buckets/{quote(bucket, safe='')}/lifecycle"


def iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).isoformat()


@pytest.fixture
def bucket(console_clients: Clients, request: pytest.FixtureRequest) -> oss2.Bucket:
    name = "lc-api-" + str(abs(hash(request.node.name)) % 10**8)
    made = console_clients.oss2_bucket(name)
    made.create_bucket()
    return made


def test_rules_saved_in_the_console_are_what_the_sdk_reads(console_api: ConsoleApi, bucket: oss2.Bucket) -> None:
    url = lifecycle(bucket.bucket_name)
    odd_id = "parts/<b>&co"
    added = console_api.post(url + "/rules", json={"rule": {"id": odd_id, "prefix": "tmp/",
                                                            "abort_multipart_upload": {"days": 3}}})
    assert added.status_code == 201, added.text
    assert added.json()["rule"]["abort_multipart_upload"] == {"days": 3, "created_before": None}
    [rule] = bucket.get_bucket_lifecycle().rules
    assert (rule.id, rule.prefix, rule.status, rule.abort_multipart_upload.days) == (odd_id, "tmp/", "Enabled", 3)

    rule_url = f"{url}/rules/{quote(odd_id, safe='')}"
    edited = console_api.put(rule_url, json={"rule": {"prefix": "tmp/", "abort_multipart_upload": {"days": 5},
                                                      "expiration": {"created_before": "2026-01-01"}}})
    assert edited.status_code == 200, edited.text
    assert edited.json()["rule"]["id"] == odd_id  # no ID in the body: the rule keeps its own
    assert console_api.post(rule_url + "/disable").status_code == 200
    [rule] = bucket.get_bucket_lifecycle().rules
    assert (rule.status, rule.abort_multipart_upload.days) == ("Disabled", 5)
    assert rule.expiration.created_before_date == datetime.date(2026, 1, 1)
    [listed] = console_api.get(url).json()["rules"]
    assert (listed["enabled"], listed["expiration"]["created_before"]) == (False, "2026-01-01")

    assert console_api.post(rule_url + "/enable").json()["rule"]["enabled"] is True
    assert console_api.delete(rule_url).status_code == 200
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()
    assert console_api.get(url).json()["rules"] == []


def test_the_whole_list_can_be_replaced_and_emptied(console_api: ConsoleApi, bucket: oss2.Bucket) -> None:
    url = lifecycle(bucket.bucket_name)
    rules = [{"id": "a", "prefix": "a/", "expiration": {"days": 1}}, {"id": "b", "prefix": "b/", "expiration": {"days": 2}}]
    assert console_api.put(url, json={"rules": rules}).status_code == 200
    assert [r.id for r in bucket.get_bucket_lifecycle().rules] == ["a", "b"]
    assert console_api.put(url, json={"rules": []}).status_code == 200
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


@pytest.mark.parametrize("path, body, status, code, field", [
    ("/rules", {"rule": {"id": "r", "abort_multipart_upload": {"days": 0}}}, 400, "InvalidRule",
     "rule.abort_multipart_upload.days"),
    ("/rules", {"rule": {"id": "r", "tags": [{"key": "k", "value": "v"}], "abort_multipart_upload": {"days": 1}}},
     400, "InvalidRule", "rule.tags"),
    ("/rules", {"rule": {"id": "r", "expiration": {"created_before": "yesterday"}}}, 400, "InvalidRule",
     "rule.expiration.created_before"),
    ("/rules", {"rule": {"id": "r"}}, 400, "InvalidRule", "rule"),
    ("/rules", {"rule": "r"}, 400, "InvalidRule", "rule"),
    ("/rules", {"rule": {"id": "saved", "prefix": "x/", "expiration": {"days": 1}}}, 400, "InvalidRule", "rule.id"),
    ("/rules", {"rule": {"id": "r", "prefix": "tmp/deep/", "abort_multipart_upload": {"days": 9}}}, 400,
     "InvalidRule", "rule.prefix"),
    ("", {"rules": {"id": "r"}}, 400, "InvalidRule", "rules"),
    ("", {"rules": [{"id": "r", "expiration": {"days": 1}}, {"id": "r", "prefix": "q/", "expiration": {"days": 2}}]},
     400, "InvalidRule", "rules[1].id"),
    ("/preview", {"rules": [{"abort_multipart_upload": {"days": 1}}], "now": "soon"}, 400, "InvalidArgument", "now"),
    ("/preview", {"rules": [{"abort_multipart_upload": {"days": 1}}], "limit": -1}, 400, "InvalidArgument", "limit"),
    ("/preview", {"rules": []}, 400, "InvalidRule", "rules"),
    ("/rules/nope", {"rule": {"expiration": {"days": 1}}}, 404, "NoSuchRule", None),
])
def test_refusals_are_console_errors_naming_the_field(console_api: ConsoleApi, bucket: oss2.Bucket, path: str,
                                                      body: dict, status: int, code: str, field: str | None) -> None:
    url = lifecycle(bucket.bucket_name)
    assert console_api.post(url + "/rules", json={"rule": {"id": "saved", "prefix": "tmp/",
                                                           "abort_multipart_upload": {"days": 1}}}).status_code == 201
    method = console_api.put if path in ("", "/rules/nope") else console_api.post
    answer = method(url + path, json=body)
    error = answer.json()["error"]
    assert (answer.status_code, error["code"], error.get("field")) == (status, code, field), error
    assert error["message"]
    assert [r.id for r in bucket.get_bucket_lifecycle().rules] == ["saved"]  # nothing else was saved


def test_no_json_and_no_bucket(console_api: ConsoleApi, bucket: oss2.Bucket) -> None:
    sent = console_api.post(lifecycle(bucket.bucket_name) + "/rules", data=b"{oops",
                            headers={"Content-Type": "application/json"})
    assert (sent.status_code, sent.json()["error"]["code"]) == (400, "InvalidJson")
    missing = console_api.get(lifecycle("no-such-bucket-lc"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NoSuchBucket")


def test_the_preview_names_uploads_and_objects_and_saves_nothing(console_api: ConsoleApi,
                                                                 bucket: oss2.Bucket) -> None:
    old = {k: bucket.init_multipart_upload(k).upload_id for k in ("tmp/one", "tmp/two")}
    bucket.upload_part("tmp/two", old["tmp/two"], 1, b"12345")
    bucket.put_object("logs/a", b"abc")
    cutoff = time.time() + 0.5  # a day before the preview's instant: the old ones were last updated by then
    time.sleep(1)
    bucket.init_multipart_upload("tmp/new")
    rules = [{"id": "parts", "prefix": "tmp/", "abort_multipart_upload": {"days": 1}},
             {"id": "logs", "prefix": "logs/", "enabled": False, "expiration": {"days": 1}}]
    answer = console_api.post(lifecycle(bucket.bucket_name) + "/preview",
                              json={"rules": rules, "now": iso(cutoff + DAY)})
    assert answer.status_code == 200, answer.text
    parts, logs = answer.json()["rules"]
    [aborts] = parts["outcomes"]
    assert (aborts["matched"], aborts["parts"], aborts["bytes"], aborts["truncated"]) == (2, 1, 5, False)
    assert {(i["key"], i["upload_id"]) for i in aborts["items"]} == set(old.items())
    assert logs["enabled"] is False and [i["key"] for i in logs["outcomes"][0]["items"]] == ["logs/a"]
    counted = console_api.post(lifecycle(bucket.bucket_name) + "/preview",
                               json={"rules": rules[:1], "now": iso(cutoff + DAY), "limit": 1}).json()
    assert [(o["matched"], len(o["items"]), o["truncated"]) for o in counted["rules"][0]["outcomes"]] == [(2, 1, True)]
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()
    assert len(list(oss2.MultipartUploadIterator(bucket))) == 3


def test_the_run_log_says_what_runs_did_in_the_bucket(console_api: ConsoleApi, bucket: oss2.Bucket) -> None:
    upload_id = bucket.init_multipart_upload("forgotten").upload_id
    console_api.post(lifecycle(bucket.bucket_name) + "/rules",
                     json={"rule": {"id": "sweep", "abort_multipart_upload": {"days": 1}}})
    done = console_api.server.admin("lifecycle", "run", "--bucket", bucket.bucket_name, "--now",
                                    iso(time.time() + 2 * DAY))
    assert done.returncode == 0, done.stderr
    log = console_api.get("/api/lifecycle/runs", params={"bucket": bucket.bucket_name}).json()
    [outcome] = log["last_run"]["outcomes"]
    assert (outcome["rule_id"], outcome["matched"], outcome["items"][0]["upload_id"]) == ("sweep", 1, upload_id)
    assert log["runs"][0]["run_id"] == log["last_run"]["run_id"]
    assert log["schedule"] == "daily at 00:00 UTC" and log["next_run_ms"] > time.time() * 1000
    assert all(o["bucket"] == bucket.bucket_name for r in log["runs"] for o in r["outcomes"])


def test_only_the_owner_sees_or_changes_the_rules(console_api: ConsoleApi, bucket: oss2.Bucket) -> None:
    stranger = ConsoleApi(console_api.server, *_key(console_api))
    assert stranger.sign_in().status_code == 200
    for answer in (stranger.get(lifecycle(bucket.bucket_name)),
                   stranger.post(lifecycle(bucket.bucket_name) + "/rules",
                                 json={"rule": {"abort_multipart_upload": {"days": 1}}}),
                   stranger.get("/api/lifecycle/runs", params={"bucket": bucket.bucket_name})):
        assert (answer.status_code, answer.json()["error"]["code"]) == (403, "AccessDenied")
    runs = stranger.get("/api/lifecycle/runs").json()["runs"]
    assert all(o["bucket"] != bucket.bucket_name for r in runs for o in r["outcomes"])


def _key(api: ConsoleApi) -> tuple[str, str]:
    other = create_key(api.server)
    return other.access_key_id, other.access_key_secret
