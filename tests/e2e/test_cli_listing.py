"""``tessera ls``, ``list-parts`` and ``du`` as a user runs them against a real server, with the
data set up through the official SDKs (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import alibabacloud_oss_v2 as oss
import pytest

from tests.support.cli import as_json, assert_one_line_error, ok, run_cli
from tests.support.clients import Clients
from tests.support.populate import bucket_stat, put_objects, start_uploads
from tests.support.server import TesseraServer


@pytest.fixture
def v2(clients: Clients) -> oss.Client:
    return clients.v2()


def test_ls_without_url_lists_buckets_with_location_class_and_creation_date(server: TesseraServer,
                                                                            bucket_name: str) -> None:
    row = next(line for line in ok(run_cli(server, "ls")).splitlines() if line.endswith(f"oss://{bucket_name}"))
    assert "oss-cn-hangzhou" in row and "Standard" in row
    listed = as_json(run_cli(server, "ls", "--json"))
    mine = next(bucket for bucket in listed["buckets"] if bucket["name"] == bucket_name)
    assert (mine["location"], mine["storage_class"], mine["url"]) == ("oss-cn-hangzhou", "Standard",
                                                                      f"oss://{bucket_name}")
    assert mine["creation_date"].startswith("20")
    assert listed["summary"]["buckets"] == len(listed["buckets"]) >= 1
    assert f"oss://{bucket_name}" in ok(run_cli(server, "ls", "-s")).splitlines()


def test_ls_lists_objects_with_size_class_etag_and_a_summary(server: TesseraServer, v2: oss.Client,
                                                             bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"a.txt": b"a" * 10, "dir one/b c.txt": b"b" * 20})
    put_objects(v2, bucket_name, {"cold.bin": b"c" * 30}, storage_class="IA")
    etag = v2.head_object(oss.HeadObjectRequest(bucket=bucket_name, key="a.txt")).etag.strip('"')

    lines = ok(run_cli(server, "ls", f"oss://{bucket_name}")).splitlines()
    rows = {line.split("oss://", 1)[1]: line.split() for line in lines if "oss://" in line}
    assert rows[f"{bucket_name}/a.txt"][2:5] == ["10", "Standard", etag]
    assert rows[f"{bucket_name}/cold.bin"][2:4] == ["30", "IA"]
    assert f"{bucket_name}/dir one/b c.txt" in rows
    assert lines[-1] == "3 objects, 60 B (60 bytes)"

    listed = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-j"))
    assert [(o["key"], o["size"], o["storage_class"]) for o in listed["objects"]] == [
        ("a.txt", 10, "Standard"), ("cold.bin", 30, "IA"), ("dir one/b c.txt", 20, "Standard")]
    assert listed["objects"][0]["etag"] == etag and listed["objects"][0]["url"] == f"oss://{bucket_name}/a.txt"
    assert listed["summary"] == {"objects": 3, "object_bytes": 60}
    assert listed["truncated"] is False and "uploads" not in listed

    under_prefix = as_json(run_cli(server, "ls", f"oss://{bucket_name}/dir", "-j"))
    assert [o["key"] for o in under_prefix["objects"]] == ["dir one/b c.txt"]


def test_ls_directory_shows_one_level(server: TesseraServer, v2: oss.Client, bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"top": b"1", "photos/a.jpg": b"2", "photos/2024/b.jpg": b"3", "video/c": b"4"})

    listed = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-d", "-j"))
    assert [o["key"] for o in listed["objects"]] == ["top"]
    assert [d["url"] for d in listed["directories"]] == [f"oss://{bucket_name}/photos/", f"oss://{bucket_name}/video/"]
    assert listed["summary"] == {"objects": 1, "object_bytes": 1, "directories": 2}

    inside = ok(run_cli(server, "ls", f"oss://{bucket_name}/photos/", "-d")).splitlines()
    assert any(line.endswith(f"oss://{bucket_name}/photos/a.jpg") for line in inside)
    assert any("DIR" in line and line.endswith(f"oss://{bucket_name}/photos/2024/") for line in inside)
    assert inside[-1] == "1 object, 1 B (1 bytes), 1 directory"


def test_ls_short_prints_urls_only_and_the_summary_on_stderr(server: TesseraServer, v2: oss.Client,
                                                             bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"x/1": b"1", "x/2": b"22"})
    uploads = start_uploads(v2, bucket_name, ["x/3"])
    result = run_cli(server, "ls", f"oss://{bucket_name}/x/", "-a", "-s")
    assert ok(result).splitlines() == [f"oss://{bucket_name}/x/1", f"oss://{bucket_name}/x/2",
                                       f"{uploads[0].upload_id} oss://{bucket_name}/x/3"]
    assert result.stderr.splitlines() == ["2 objects, 3 B (3 bytes)", "1 incomplete upload"]


def test_ls_multipart_counts_each_uploads_parts(server: TesseraServer, v2: oss.Client, bucket_name: str) -> None:
    big = start_uploads(v2, bucket_name, ["media/big.mov"], part_sizes=(100 * 1024, 100 * 1024, 7))
    empty = start_uploads(v2, bucket_name, ["media/new.mov"], storage_class="Archive")
    put_objects(v2, bucket_name, {"media/done.mov": b"done"})

    lines = ok(run_cli(server, "ls", f"oss://{bucket_name}", "-m")).splitlines()
    big_row = next(line for line in lines if big[0].upload_id in line).split()
    assert big_row[2:5] == ["3", str(big[0].size), "Standard"]
    assert big_row[-1] == f"oss://{bucket_name}/media/big.mov"
    assert next(line for line in lines if empty[0].upload_id in line).split()[2:5] == ["0", "0", "Archive"]
    assert lines[-1] == f"2 incomplete uploads, 3 parts, 200.01 KiB ({big[0].size} bytes)"
    assert not any("done.mov" in line for line in lines)

    listed = as_json(run_cli(server, "ls", f"oss://{bucket_name}/media/", "-m", "--json"))
    assert [(u["key"], u["upload_id"], u["parts"], u["size"], u["storage_class"]) for u in listed["uploads"]] == [
        ("media/big.mov", big[0].upload_id, 3, big[0].size, "Standard"),
        ("media/new.mov", empty[0].upload_id, 0, 0, "Archive")]
    assert listed["summary"] == {"uploads": 2, "parts": 3, "part_bytes": big[0].size}
    assert "objects" not in listed

    uncounted = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-m", "--no-parts", "-j"))
    assert "parts" not in uncounted["uploads"][0] and uncounted["summary"] == {"uploads": 2}


def test_ls_all_type_and_limited_num_stop_each_kind_early(server: TesseraServer, v2: oss.Client,
                                                          bucket_name: str) -> None:
    put_objects(v2, bucket_name, {f"k{i}": b"o" for i in range(5)})
    uploads = start_uploads(v2, bucket_name, [f"u{i}" for i in range(4)], part_sizes=(3,))

    both = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-a", "-j"))
    assert len(both["objects"]) == 5 and len(both["uploads"]) == 4
    assert both["summary"] == {"objects": 5, "object_bytes": 5, "uploads": 4, "parts": 4, "part_bytes": 12}

    capped = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-a", "--limited-num", "3", "-j"))
    assert [o["key"] for o in capped["objects"]] == ["k0", "k1", "k2"]
    assert [u["upload_id"] for u in capped["uploads"]] == [u.upload_id for u in uploads][:3]
    assert capped["truncated"] is True
    text = ok(run_cli(server, "ls", f"oss://{bucket_name}", "-a", "--limited-num", "3")).splitlines()
    assert "3 objects, 3 B (3 bytes) (stopped at --limited-num 3; more remain)" in text
    assert text[-1] == "3 incomplete uploads, 3 parts, 9 B (9 bytes) (stopped at --limited-num 3; more remain)"
    exact = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "--limited-num", "5", "-j"))
    assert len(exact["objects"]) == 5 and exact["truncated"] is False


def test_ls_pages_through_more_than_1000_objects_and_uploads(server: TesseraServer, v2: oss.Client,
                                                             bucket_name: str) -> None:
    count = 1050  # OSS pages hold at most 1000 objects or uploads
    put_objects(v2, bucket_name, {f"obj/{i:05}": b"" for i in range(count)})
    uploads = start_uploads(v2, bucket_name, [f"up/{i // 2:05}" for i in range(count)])  # two uploads per key

    urls = ok(run_cli(server, "ls", f"oss://{bucket_name}/obj/", "-s")).splitlines()
    assert urls == [f"oss://{bucket_name}/obj/{i:05}" for i in range(count)]
    listed = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-m", "-j"))
    assert sorted(u["upload_id"] for u in listed["uploads"]) == sorted(u.upload_id for u in uploads)
    assert listed["summary"] == {"uploads": count, "parts": 0, "part_bytes": 0}
    capped = as_json(run_cli(server, "ls", f"oss://{bucket_name}", "-a", "--limited-num", "1020", "--no-parts", "-j"))
    assert (len(capped["objects"]), len(capped["uploads"]), capped["truncated"]) == (1020, 1020, True)
    assert capped["objects"][-1]["key"] == "obj/01019"


def test_list_parts_shows_numbers_sizes_etags_and_crc64(server: TesseraServer, v2: oss.Client,
                                                        bucket_name: str) -> None:
    key = "movie.mkv"
    upload_id = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=bucket_name, key=key)).upload_id
    sent = {}
    for number, size in ((1, 100 * 1024), (2, 5), (4, 3)):
        sent[number] = v2.upload_part(oss.UploadPartRequest(bucket=bucket_name, key=key, upload_id=upload_id,
                                                            part_number=number, body=b"m" * size))

    listed = as_json(run_cli(server, "list-parts", f"oss://{bucket_name}/{key}", upload_id, "--json"))
    assert [(p["part_number"], p["size"], p["etag"], p["crc64"]) for p in listed["parts"]] == [
        (n, size, sent[n].etag.strip('"'), sent[n].hash_crc64) for n, size in ((1, 100 * 1024), (2, 5), (4, 3))]
    assert listed["summary"] == {"parts": 3, "bytes": 100 * 1024 + 8}
    assert (listed["upload_id"], listed["storage_class"]) == (upload_id, "Standard")

    lines = ok(run_cli(server, "list-parts", f"oss://{bucket_name}/{key}", upload_id)).splitlines()
    assert lines[1].split()[:3] == ["1", str(100 * 1024), sent[1].etag.strip('"')]
    assert lines[1].split()[-1] == sent[1].hash_crc64
    assert lines[-1].startswith(f"3 parts, 100.01 KiB ({100 * 1024 + 8} bytes); upload {upload_id}")


def test_du_counts_objects_and_parts_per_storage_class(server: TesseraServer, v2: oss.Client,
                                                       bucket_name: str) -> None:
    put_objects(v2, bucket_name, {"data/a": b"a" * 100, "data/b": b"b" * 50, "top": b"t" * 7})
    put_objects(v2, bucket_name, {"data/cold": b"c" * 10}, storage_class="IA")
    start_uploads(v2, bucket_name, ["data/big", "data/big"], part_sizes=(1000, 1), storage_class="Archive")
    start_uploads(v2, bucket_name, ["other/up"], part_sizes=(40,))

    whole = as_json(run_cli(server, "du", f"oss://{bucket_name}", "-j"))
    assert whole["storage_classes"] == {
        "Archive": {"objects": 0, "object_bytes": 0, "uploads": 2, "parts": 4, "part_bytes": 2002,
                    "stored_bytes": 2002},
        "IA": {"objects": 1, "object_bytes": 10, "uploads": 0, "parts": 0, "part_bytes": 0, "stored_bytes": 10},
        "Standard": {"objects": 3, "object_bytes": 157, "uploads": 1, "parts": 1, "part_bytes": 40,
                     "stored_bytes": 197}}
    assert whole["total"] == {"objects": 4, "object_bytes": 167, "uploads": 3, "parts": 5, "part_bytes": 2042,
                              "stored_bytes": 2209}
    stat = bucket_stat(server, bucket_name)
    assert whole["bucket_stat"] == {name: stat[name] for name in
                                    ("ObjectCount", "Storage", "MultipartUploadCount", "MultipartPartCount",
                                     "MultipartPartStorage")}
    assert (stat["MultipartUploadCount"], stat["MultipartPartCount"], stat["MultipartPartStorage"]) == (3, 5, 2042)

    prefix = as_json(run_cli(server, "du", f"oss://{bucket_name}/data/", "-j"))
    assert "bucket_stat" not in prefix
    assert prefix["total"] == {"objects": 3, "object_bytes": 160, "uploads": 2, "parts": 4, "part_bytes": 2002,
                               "stored_bytes": 2162}

    lines = ok(run_cli(server, "du", f"oss://{bucket_name}/data/")).splitlines()
    assert lines[1].split() == ["Archive", "0", "0", "2", "4", "2002", "2002"]
    assert lines[-2].split() == ["Total", "3", "160", "2", "4", "2002", "2162"]
    assert lines[-1].endswith("stored 2.11 KiB (2162 bytes)")


def test_missing_bucket_and_upload_fail_in_one_line_with_the_code_and_request_id(server: TesseraServer,
                                                                                bucket_name: str) -> None:
    for args in (["ls", "oss://no-such-bucket-here"], ["ls", "oss://no-such-bucket-here", "-m"],
                 ["du", "oss://no-such-bucket-here"]):
        assert_one_line_error(run_cli(server, *args), "NoSuchBucket")
    assert_one_line_error(run_cli(server, "list-parts", f"oss://{bucket_name}/k", "0" * 32), "NoSuchUpload")


@pytest.mark.parametrize("args", [["ls", "bucket/key"], ["ls", "-m"], ["list-parts", "oss://bucket", "ID"],
                                  ["du", "s3://bucket"], ["ls", "oss://b", "--limited-num", "0"]])
def test_bad_urls_and_options_exit_2(server: TesseraServer, args: list[str]) -> None:
    result = run_cli(server, *args)
    assert result.returncode == 2, result
    assert result.stdout == "" and result.stderr.strip()
