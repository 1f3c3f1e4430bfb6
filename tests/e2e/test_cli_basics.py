"""The client commands that are not about listing, removing or copying: config, mb, rb, stat,
lifecycle and sign — against a real server, through the real executable."""

from __future__ import annotations

import http.client
import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, cli_env, run_cli
from tests.support.clients import Clients
from tests.support.server import TesseraServer

RULES_YAML = """\
Rule:
  - ID: abort-stale
    Prefix: ""
    Status: Enabled
    AbortMultipartUpload: {Days: 7}
  - ID: cool-logs
    Prefix: logs/
    Status: Enabled
    Transition:
      - {Days: 30, StorageClass: IA}
    Expiration: {Days: 365}
"""


def test_help_groups_client_and_server_commands(server: TesseraServer) -> None:
    text = run_cli(server, "--help").stdout
    client, _, rest = text.partition("client commands")[2].partition("server commands")
    assert all(f"\n  {name} " in client for name in ("mb", "rb", "stat", "lifecycle", "sign", "config"))
    assert all(f"\n  {name} " in rest for name in ("serve", "keys", "admin"))


def test_config_writes_a_profile_the_commands_use(server: TesseraServer, bucket_name: str, tmp_path: Path) -> None:
    config = tmp_path / "tesseraconfig"
    bare = {k: v for k, v in cli_env(server).items() if not k.startswith("OSS_")}
    bare["TESSERA_CONFIG_FILE"] = str(config)
    answers = f"{server.access_key_id}\n{server.access_key_secret}\ncn-hangzhou\n{server.endpoint}\n"
    done = run_cli(server, "config", "--profile", "local", input=answers, env=bare)
    assert done.returncode == 0, done.stderr
    assert config.stat().st_mode & 0o077 == 0 and "[profile local]" in config.read_text()
    assert run_cli(server, "stat", f"oss://{bucket_name}", env=bare).returncode == 2  # no default profile
    shown = run_cli(server, "stat", f"oss://{bucket_name}", "--profile", "local", "-j", env=bare)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["Name"] == bucket_name
    wrong = run_cli(server, "stat", f"oss://{bucket_name}", "--profile", "local", "-k", "not-the-secret", env=bare)
    assert_one_line_error(wrong, "SignatureDoesNotMatch")  # options beat the profile


def test_make_stat_and_remove_a_bucket(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    name = bucket_name + "-mb"
    made = run_cli(server, "mb", f"oss://{name}", "--storage-class", "IA", "--acl", "public-read")
    assert made.returncode == 0 and made.stdout.strip() == f"made oss://{name}"
    assert_one_line_error(run_cli(server, "mb", f"oss://{name}"), "BucketAlreadyExists")
    bucket = clients.oss2_bucket(name)
    bucket.put_object("small", b"x" * 10)
    upload_id = bucket.init_multipart_upload("pending").upload_id
    bucket.upload_part("pending", upload_id, 1, b"p" * 3000)
    stat = json.loads(run_cli(server, "stat", f"oss://{name}", "--json").stdout)
    assert (stat["StorageClass"], stat["ACL"], stat["ObjectCount"], stat["MultipartUploadCount"]) == (
        "IA", "public-read", 1, 1)
    assert (stat["MultipartPartCount"], stat["MultipartPartStorage"]) == (1, 3000)  # beyond the SDK's model
    assert stat["InfrequentAccessStorage"] == 65536 and stat["InfrequentAccessRealStorage"] == 10
    text = run_cli(server, "stat", f"oss://{name}").stdout
    assert "MultipartPartStorage:" in text and "(2.93 KiB)" in text
    assert_one_line_error(run_cli(server, "rb", f"oss://{name}"), "BucketNotEmpty")
    bucket.delete_object("small")
    bucket.abort_multipart_upload("pending", upload_id)
    removed = run_cli(server, "rb", f"oss://{name}")
    assert removed.returncode == 0 and removed.stdout.strip() == f"removed oss://{name}"
    assert_one_line_error(run_cli(server, "stat", f"oss://{name}"), "NoSuchBucket")


def test_stat_of_an_object(server: TesseraServer, clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name)
    bucket.put_object("dir/obj.txt", b"hello", headers={"x-oss-meta-owner": "ann", "x-oss-tagging": "a=1",
                                                        "Content-Type": "text/plain"})
    details = json.loads(run_cli(server, "stat", f"oss://{bucket_name}/dir/obj.txt", "-j").stdout)
    assert details["Content-Length"] == 5 and details["Content-Type"] == "text/plain"
    assert details["X-Oss-Meta-owner"] == "ann" and details["X-Oss-Tagging-Count"] == 1
    assert details["X-Oss-Hash-Crc64ecma"] == bucket.head_object("dir/obj.txt").headers["x-oss-hash-crc64ecma"]
    assert_one_line_error(run_cli(server, "stat", f"oss://{bucket_name}/missing"), "NoSuchKey")


@pytest.mark.parametrize("form", ["yaml", "json", "xml"])
def test_lifecycle_in_every_form(server: TesseraServer, clients: Clients, bucket_name: str, tmp_path: Path,
                                 form: str) -> None:
    url = f"oss://{bucket_name}"
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML)
    assert run_cli(server, "lifecycle", "put", url, str(rules)).returncode == 0
    text = run_cli(server, "lifecycle", "get", url, "--format", form).stdout
    saved = clients.oss2_bucket(bucket_name).get_bucket_lifecycle().rules
    assert [(r.id, r.prefix) for r in saved] == [("abort-stale", ""), ("cool-logs", "logs/")]
    assert saved[1].storage_transitions[0].storage_class == "IA" and saved[1].expiration.days == 365
    # What get prints, put takes back (from standard input, form guessed from the content).
    assert run_cli(server, "lifecycle", "delete", url).returncode == 0
    assert_one_line_error(run_cli(server, "lifecycle", "get", url), "NoSuchLifecycle")
    assert run_cli(server, "lifecycle", "put", url, input=text).returncode == 0
    assert [r.id for r in clients.oss2_bucket(bucket_name).get_bucket_lifecycle().rules] == ["abort-stale",
                                                                                             "cool-logs"]


def test_lifecycle_refusals(server: TesseraServer, bucket_name: str) -> None:
    url = f"oss://{bucket_name}"
    bad_form = run_cli(server, "lifecycle", "put", url, input="<Wrong/>")
    assert bad_form.returncode == 2 and "root element must be LifecycleConfiguration" in bad_form.stderr
    rule_without_action = "Rule:\n  - {ID: a, Prefix: x, Status: Enabled}\n"
    assert_one_line_error(run_cli(server, "lifecycle", "put", url, input=rule_without_action), "InvalidArgument")
    assert run_cli(server, "lifecycle", "put", url, "/no/such/file").returncode == 2


def test_sign_gives_urls_that_work_without_credentials(server: TesseraServer, clients: Clients,
                                                       bucket_name: str) -> None:
    put_url = run_cli(server, "sign", f"oss://{bucket_name}/signed.txt", "--method", "PUT",
                      "--timeout", "60").stdout.strip()
    parts = urllib.parse.urlsplit(put_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)  # sends no Content-Type of its own
    connection.request("PUT", f"{parts.path}?{parts.query}", body=b"via a presigned URL")
    assert connection.getresponse().status == 200
    connection.close()
    get_url = run_cli(server, "sign", f"oss://{bucket_name}/signed.txt").stdout.strip()
    with urllib.request.urlopen(get_url) as response:
        assert response.read() == b"via a presigned URL"
    assert clients.oss2_bucket(bucket_name).get_object("signed.txt").read() == b"via a presigned URL"
    refused = run_cli(server, "sign", f"oss://{bucket_name}")
    assert refused.returncode == 2 and "names a bucket" in refused.stderr
    assert run_cli(server, "sign", f"oss://{bucket_name}/k", "--timeout", "0").returncode == 2
