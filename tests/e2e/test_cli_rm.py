"""``tessera rm`` and ``abort-multipart-upload`` as a user runs them against a real server: what
goes, what stays (checked through the SDK and GetBucketStat), the bytes reported freed, the
confirmation prompt, and the errors (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import pytest

from tests.support.cli import as_json, assert_one_line_error, ok, run_cli
from tests.support.clients import Clients
from tests.support.populate import bucket_stat, listed_keys, listed_uploads, put_objects, start_uploads
from tests.support.server import TesseraServer


@pytest.fixture
def v2(clients: Clients) -> oss.Client:
    return clients.v2()


def test_rm_one_object_says_what_it_freed(server: TesseraServer, v2: oss.Client, bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"report.pdf": b"r" * 1234, "report.pdf.bak": b"b"})
    assert ok(run_cli(server, "rm", f"oss://{bucket_name}/report.pdf")).splitlines() == [
        "removed 1 object, 1.21 KiB (1234 bytes)", "freed 1.21 KiB (1234 bytes)"]
    assert listed_keys(v2, bucket_name) == ["report.pdf.bak"]  # a key, not a prefix

    done = as_json(run_cli(server, "rm", f"oss://{bucket_name}/report.pdf.bak", "--json"))
    assert (done["objects"], done["freed_bytes"], done["bucket_removed"]) == ({"count": 1, "bytes": 1}, 1, False)
    assert listed_keys(v2, bucket_name) == []


def test_rm_missing_object_fails_with_no_such_key(server: TesseraServer, bucket_name: str) -> None:
    assert_one_line_error(run_cli(server, "rm", f"oss://{bucket_name}/nothing-here"), "NoSuchKey")
    assert_one_line_error(run_cli(server, "rm", "oss://no-such-bucket-here/k"), "NoSuchBucket")
    assert_one_line_error(run_cli(server, "rm", "oss://no-such-bucket-here", "-r", "-f"), "NoSuchBucket")


def test_rm_multipart_aborts_every_upload_of_that_key_and_no_other(server: TesseraServer, v2: oss.Client,
                                                                   bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"video.mp4": b"v" * 10})
    start_uploads(v2, bucket_name, ["video.mp4"] * 3, part_sizes=(100, 20))
    sibling = start_uploads(v2, bucket_name, ["video.mp4.part", "video.mp4/x"], part_sizes=(5,))

    done = as_json(run_cli(server, "rm", f"oss://{bucket_name}/video.mp4", "-m", "-f", "-j"))
    assert done["uploads"] == {"count": 3, "parts": 6, "bytes": 360, "already_gone": 0}
    assert done["objects"] == {"count": 0, "bytes": 0} and done["freed_bytes"] == 360
    assert listed_uploads(v2, bucket_name) == [(u.key, u.upload_id) for u in sibling]
    assert listed_keys(v2, bucket_name) == ["video.mp4"]  # -m leaves the object

    both = ok(run_cli(server, "rm", f"oss://{bucket_name}/video.mp4.part", "-a", "-f")).splitlines()
    assert both == ["aborted 1 incomplete upload, 1 part, 5 B (5 bytes)", "freed 5 B (5 bytes)"]
    assert [key for key, _ in listed_uploads(v2, bucket_name)] == ["video.mp4/x"]


def test_rm_multipart_recursive_aborts_1000_uploads_under_a_prefix_only(server: TesseraServer, v2: oss.Client,
                                                                        bucket_name: str) -> None:
    doomed = start_uploads(v2, bucket_name, [f"logs/{i:04}" for i in range(1000)])
    with_parts = start_uploads(v2, bucket_name, ["logs/with-parts"] * 2, part_sizes=(300, 40))
    kept = start_uploads(v2, bucket_name, ["logsbook", "keep/logs/1"], part_sizes=(7,))
    put_objects(v2, bucket_name, {"logs/kept-object": b"o" * 3})
    before = bucket_stat(server, bucket_name)
    assert (before["MultipartUploadCount"], before["MultipartPartCount"]) == (1004, 6)

    done = as_json(run_cli(server, "rm", f"oss://{bucket_name}/logs/", "-m", "-r", "-f", "--json"))
    assert done["uploads"] == {"count": 1002, "parts": 4, "bytes": 680, "already_gone": 0}
    assert done["objects"] == {"count": 0, "bytes": 0}

    assert sorted(listed_uploads(v2, bucket_name)) == sorted((u.key, u.upload_id) for u in kept)
    assert listed_keys(v2, bucket_name) == ["logs/kept-object"]
    after = bucket_stat(server, bucket_name)
    assert before["MultipartUploadCount"] - after["MultipartUploadCount"] == len(doomed) + len(with_parts)
    assert before["MultipartPartCount"] - after["MultipartPartCount"] == 4
    assert before["MultipartPartStorage"] - after["MultipartPartStorage"] == 680
    assert (after["ObjectCount"], after["Storage"]) == (before["ObjectCount"], before["Storage"] - 680)


def test_rm_recursive_deletes_objects_in_batches_and_leaves_other_prefixes(server: TesseraServer, v2: oss.Client,
                                                                          bucket_name: str) -> None:
    put_objects(v2, bucket_name, {f"tmp/{i:04}": b"t" * 2 for i in range(1005)})  # two DeleteMultipleObjects
    put_objects(v2, bucket_name, {"tmpfile": b"x", "keep/tmp/1": b"y"})
    upload = start_uploads(v2, bucket_name, ["tmp/upload"])

    dry = as_json(run_cli(server, "rm", f"oss://{bucket_name}/tmp/", "-r", "--dry-run", "-j"))
    assert dry["summary"]["objects"] == 1005 and dry["uploads"] == [] and len(listed_keys(v2, bucket_name)) == 1007

    done = as_json(run_cli(server, "rm", f"oss://{bucket_name}/tmp/", "-r", "-f", "-j"))
    assert done["objects"] == {"count": 1005, "bytes": 2010} and done["uploads"]["count"] == 0
    assert listed_keys(v2, bucket_name) == ["keep/tmp/1", "tmpfile"]
    assert listed_uploads(v2, bucket_name) == [("tmp/upload", upload[0].upload_id)]  # -r alone: objects only


def test_include_and_exclude_match_the_last_segment_of_keys_and_uploads(server: TesseraServer, v2: oss.Client,
                                                                        bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"d/a.jpg": b"1", "d/b.png": b"2", "d/sub/c.jpg": b"3", "d/a.jpg.tmp": b"4",
                                  "d/jpg/readme": b"5", "d/cat.jpg": b"6"})
    start_uploads(v2, bucket_name, ["d/up.jpg", "d/up.png"], part_sizes=(9,))

    # --include first: only what an include matches; the later --exclude takes cat.jpg back out.
    done = as_json(run_cli(server, "rm", f"oss://{bucket_name}/d/", "-a", "-r", "-f", "-j",
                           "--include", "*.jpg", "--exclude", "c*"))
    assert (done["objects"]["count"], done["uploads"]["count"]) == (1, 1)
    assert listed_keys(v2, bucket_name) == ["d/a.jpg.tmp", "d/b.png", "d/cat.jpg", "d/jpg/readme", "d/sub/c.jpg"]
    assert [key for key, _ in listed_uploads(v2, bucket_name)] == ["d/up.png"]

    # --exclude first: everything but what it matches.
    ok(run_cli(server, "rm", f"oss://{bucket_name}/d/", "-a", "-r", "-f", "--exclude", "*.png",
               "--exclude", "[!c]*.tmp"))
    assert listed_keys(v2, bucket_name) == ["d/a.jpg.tmp", "d/b.png"]
    assert [key for key, _ in listed_uploads(v2, bucket_name)] == ["d/up.png"]

    refused = run_cli(server, "rm", f"oss://{bucket_name}/d/", "-r", "-f", "--include", "d/*.png")
    assert refused.returncode == 2 and "'/'" in refused.stderr


def test_confirmation_prompt_no_keeps_everything_yes_removes(server: TesseraServer, v2: oss.Client,
                                                             bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"p/1": b"12", "p/2": b"3"})
    start_uploads(v2, bucket_name, ["p/3"], part_sizes=(4,))

    declined = run_cli(server, "rm", f"oss://{bucket_name}/p/", "-a", "-r", input="n\n")
    assert declined.returncode == 0 and declined.stdout == ""
    assert "Remove 2 objects (3 B) and 1 incomplete upload with 1 part (4 B) under" in declined.stderr
    assert "nothing removed" in declined.stderr
    unanswered = run_cli(server, "rm", f"oss://{bucket_name}/p/", "-a", "-r", input="")
    assert unanswered.returncode == 2 and "-f" in unanswered.stderr
    assert len(listed_keys(v2, bucket_name)) == 2 and len(listed_uploads(v2, bucket_name)) == 1

    accepted = run_cli(server, "rm", f"oss://{bucket_name}/p/", "-a", "-r", input="y\n")
    assert ok(accepted).splitlines()[-1] == "freed 7 B (7 bytes)"
    assert listed_keys(v2, bucket_name) == [] and listed_uploads(v2, bucket_name) == []


def test_rm_all_recursive_with_bucket_empties_and_removes_the_bucket(server: TesseraServer, v2: oss.Client,
                                                                     bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"a": b"1" * 10, "b/c": b"2" * 20})
    start_uploads(v2, bucket_name, ["b/d", "e"], part_sizes=(5, 5))

    done = as_json(run_cli(server, "rm", f"oss://{bucket_name}", "-a", "-r", "-b", "-f", "-j"))
    assert done["objects"] == {"count": 2, "bytes": 30}
    assert done["uploads"] == {"count": 2, "parts": 4, "bytes": 20, "already_gone": 0}
    assert (done["bucket_removed"], done["freed_bytes"]) == (True, 50)
    assert not v2.is_bucket_exist(bucket_name)


def test_rm_bucket_alone_removes_it_only_when_empty(server: TesseraServer, clients: Clients, v2: oss.Client,
                                                    bucket_name: str) -> None:
    start_uploads(v2, bucket_name, ["left-behind"])
    refused = run_cli(server, "rm", f"oss://{bucket_name}", "-b", "-f")
    assert_one_line_error(refused, "BucketNotEmpty")
    assert v2.is_bucket_exist(bucket_name)

    ok(run_cli(server, "rm", f"oss://{bucket_name}", "-m", "-r", "-f"))
    removed = run_cli(server, "rm", f"oss://{bucket_name}", "-b", input="y\n")
    assert "Remove the bucket" in removed.stderr
    assert ok(removed).splitlines() == [f"removed bucket oss://{bucket_name}", "freed 0 B (0 bytes)"]
    assert not v2.is_bucket_exist(bucket_name)


def test_abort_multipart_upload_says_what_it_freed(server: TesseraServer, v2: oss.Client, bucket_name: str) -> None:
    upload, other = start_uploads(v2, bucket_name, ["big.iso", "big.iso"], part_sizes=(100 * 1024, 24))
    url = f"oss://{bucket_name}/big.iso"

    said = ok(run_cli(server, "abort-multipart-upload", url, upload.upload_id))
    assert said.strip() == f"aborted upload {upload.upload_id} of {url}: freed 2 parts, 100.02 KiB (102424 bytes)"
    assert listed_uploads(v2, bucket_name) == [("big.iso", other.upload_id)]
    assert_one_line_error(run_cli(server, "abort-multipart-upload", url, upload.upload_id), "NoSuchUpload")

    done = as_json(run_cli(server, "abort-multipart-upload", url, other.upload_id, "--json"))
    assert done == {"url": url, "upload_id": other.upload_id, "aborted": True, "parts": 2, "bytes": 102424}
    assert listed_uploads(v2, bucket_name) == []


@pytest.mark.parametrize("args", [
    ["rm", "oss://some-bucket"],                            # a bucket without -r or -b
    ["rm", "oss://some-bucket/key", "-b"],                  # -b with a key
    ["rm", "oss://some-bucket", "-m", "-b"],                # -b -m without -r
    ["rm", "oss://some-bucket/key", "--include", "*.x"],    # filters without -r
    ["rm", "some-bucket/key"],                              # not an oss:// URL
    ["abort-multipart-upload", "oss://some-bucket", "ID"],  # no key
])
def test_rm_refuses_what_makes_no_sense_with_exit_2(server: TesseraServer, args: list[str]) -> None:
    result = run_cli(server, *args)
    assert result.returncode == 2, result
    assert result.stdout == "" and result.stderr.startswith("tessera: ")
