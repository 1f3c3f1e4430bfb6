"""The admin API's lifecycle preview: what rules would do before they are saved, for root keys
only, with JSON errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import oss2
import pytest

from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

PREVIEW = "admin/lifecycle/preview"
RULES = (b"<LifecycleConfiguration><Rule><ID>stale</ID><Prefix>tmp/</Prefix><Status>Enabled</Status>"
         b"<AbortMultipartUpload><Days>1</Days></AbortMultipartUpload></Rule>"
         b"<Rule><ID>old</ID><Prefix>logs/</Prefix><Status>Enabled</Status>"
         b"<Expiration><Days>3</Days></Expiration></Rule></LifecycleConfiguration>")


def preview(server: TesseraServer, query: dict[str, str], body: bytes = RULES) -> raw.RawResponse:
    return raw.request(server, "POST", "-", PREVIEW, query=query, body=body)


def test_preview_shows_what_unsaved_rules_would_do(server: TesseraServer, clients: Clients,
                                                   bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    upload_id = bucket.init_multipart_upload("tmp/forgotten").upload_id
    bucket.upload_part("tmp/forgotten", upload_id, 1, b"12345")
    bucket.put_object("logs/a", b"abc")
    later = (datetime.now(timezone.utc) + timedelta(days=4)).isoformat()

    now = json.loads(preview(server, {"bucket": bucket_name}).body)
    assert [o["matched"] for o in now["outcomes"]] == [0, 0] and now["rules"] == ["stale", "old"]
    response = preview(server, {"bucket": bucket_name, "now": later})
    assert response.status == 200 and response.headers["Content-Type"].startswith("application/json")
    outcomes = {o["rule_id"]: o for o in json.loads(response.body)["outcomes"]}
    assert (outcomes["stale"]["matched"], outcomes["stale"]["parts"], outcomes["stale"]["bytes"]) == (1, 1, 5)
    assert [(i["key"], i["upload_id"], i["parts"], i["bytes"]) for i in outcomes["stale"]["items"]] == [
        ("tmp/forgotten", upload_id, 1, 5)]
    assert outcomes["old"]["items"][0]["key"] == "logs/a" and outcomes["old"]["items"][0]["age_ms"] > 3 * 86_400_000
    counted = json.loads(preview(server, {"bucket": bucket_name, "now": later, "limit": "0"}).body)["outcomes"]
    assert [(o["matched"], o["items"], o["truncated"]) for o in counted] == [(1, [], True), (1, [], True)]
    assert (outcomes["old"]["action"], outcomes["old"]["matched"], outcomes["old"]["bytes"]) == ("Expiration", 1, 3)
    # Nothing was saved and nothing changed.
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()
    assert bucket.object_exists("logs/a") and len(bucket.list_parts("tmp/forgotten", upload_id).parts) == 1


def test_errors_are_json(server: TesseraServer, bucket_name: str) -> None:
    cases = [
        (preview(server, {"bucket": bucket_name}, body=b"<LifecycleConfiguration><Rule><Status>Enabled</Status>"
                                                        b"</Rule></LifecycleConfiguration>"), 400, "InvalidArgument"),
        (preview(server, {"bucket": bucket_name}, body=b"<oops"), 400, "MalformedXML"),
        (preview(server, {"bucket": "no-such-bucket-x"}), 404, "NoSuchBucket"),
        (preview(server, {}), 400, "InvalidArgument"),
        (preview(server, {"bucket": bucket_name, "now": "soon"}), 400, "InvalidArgument"),
        (raw.request(server, "POST", "-", "admin/nothing-here", body=b""), 404, "NotFound"),
    ]
    for response, status, code in cases:
        assert (response.status, json.loads(response.body)["code"]) == (status, code), response.body


def test_only_root_keys(server: TesseraServer, bucket_name: str) -> None:
    made = subprocess.run([sys.executable, "-m", "tessera", "keys", "create", "--data-dir", str(server.data_dir),
                           *(["--metadata-url", server.metadata_url] if server.metadata_url else [])],
                          capture_output=True, text=True, timeout=60)
    key_id = re.search(r"AccessKeyId:\s+(\S+)", made.stdout).group(1)
    secret = re.search(r"AccessKeySecret:\s+(\S+)", made.stdout).group(1)
    other = TesseraServer(server.data_dir, server.metadata_url)
    other.port, other.access_key_id, other.access_key_secret = server.port, key_id, secret
    response = preview(other, {"bucket": bucket_name})
    assert (response.status, json.loads(response.body)["code"]) == (403, "AccessDenied")
    unsigned = raw.unsigned_request(server, "POST", f"/-/{PREVIEW}?bucket={bucket_name}", RULES)
    assert (unsigned.status, json.loads(unsigned.body)["code"]) == (403, "AccessDenied")


def test_usage_endpoints(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    started = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    bucket.put_object("obj", b"o" * 1000)
    upload_id = bucket.init_multipart_upload("half").upload_id
    bucket.upload_part("half", upload_id, 1, b"h" * 500)
    ended = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()

    report = raw.request(server, "GET", "-", "admin/usage/report",
                         query={"from": started, "to": ended, "bucket": bucket_name})
    lines = {(x["kind"], x["storage_class"]): x for x in json.loads(report.body)["lines"]}
    assert set(lines) == {("object", "Standard"), ("part", "Standard")} and lines[("part", "Standard")]["real_gb_hours"] > 0

    uploads = json.loads(raw.request(server, "GET", "-", "admin/usage/uploads", query={"bucket": bucket_name}).body)
    assert [(u["upload_id"], u["bytes"]) for u in uploads["uploads"]] == [(upload_id, 500)]
    assert uploads["ages"][0]["bucket"] == bucket_name and uploads["ages"][0]["bands"][0]["uploads"] == 1

    missing = raw.request(server, "GET", "-", "admin/usage/report", query={"from": started})
    assert (missing.status, json.loads(missing.body)["code"]) == (400, "InvalidArgument")
