"""``tessera cp``: what a user copying files to and from Tessera sees — byte-identical copies both
ways, directory trees with any names, copies killed with SIGKILL (or cut off by a server crash)
that the same command finishes by sending only what is missing, CRC-64 checks that keep bad
bytes away from the destination, and a progress bar only on a terminal."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import alibabacloud_oss_v2 as oss
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tessera.blobs.checksums import crc64
from tessera.client.transfer.checkpoint import CheckpointStore, DownloadCheckpoint, UploadCheckpoint
from tests.conftest import start_server
from tests.support.cli import cli_env, run_cli
from tests.support.clients import Clients
from tests.support.server import TesseraServer

MiB = 1024 * 1024
BIG = 64 * MiB
PARTS = ["--bigfile-threshold", "1MiB", "--part-size", "1MiB", "--parallel", "4"]
# Copies to be interrupted go no faster than this, so the interruption lands mid-way on any machine.
SLOW = ["--max-speed", "16MiB"]


@pytest.fixture(scope="module")
def own_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    """A SQLite server of this module's own, to crash and restart, with request counts no other
    test adds to."""
    server = start_server(tmp_path_factory, request, "sqlite")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cp-big") / "big.bin"
    path.write_bytes(os.urandom(BIG))
    return path


def new_bucket(server: TesseraServer, name: str) -> oss.Client:
    client = Clients(server).v2()
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    return client


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def object_bytes(client: oss.Client, bucket: str, key: str) -> bytes:
    return client.get_object(oss.GetObjectRequest(bucket=bucket, key=key)).body.content


def requests_answered(server: TesseraServer, operation: str, status: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/-/metrics", timeout=30) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "tessera_requests_total" and sample.labels.get("operation") == operation
               and sample.labels.get("status") == status)


def listed_parts(client: oss.Client, bucket: str, key: str, upload_id: str) -> list[int]:
    numbers: list[int] = []
    for page in client.list_parts_paginator().iter_page(oss.ListPartsRequest(bucket=bucket, key=key,
                                                                               upload_id=upload_id)):
        numbers.extend(part.part_number for part in page.parts or [])
    return numbers


def start_cli(server: TesseraServer, *args: str, cwd: Path) -> subprocess.Popen[str]:
    # SIGINT must reach it as a Ctrl-C does. A suite started as a background job ignores SIGINT,
    # and a process inherits that (Python then never raises KeyboardInterrupt): not this one.
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        return subprocess.Popen([sys.executable, "-m", "tessera", *args], cwd=cwd, env=cli_env(server), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        signal.signal(signal.SIGINT, previous)


def wait_for(condition: Callable[[], object], process: subprocess.Popen[str], what: str, timeout: float = 60) -> object:
    """Poll until ``condition()`` is truthy while ``process`` still runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the copy ended ({process.returncode}) before {what}: {process.communicate()}")
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def checkpoint_of(directory: Path, kind: str) -> dict | None:
    for path in directory.glob(f"*.{kind}.json") if directory.exists() else []:
        try:
            return json.loads(path.read_text())
        except ValueError:
            return None
    return None


def _ranges(data: bytes) -> list[bytes]:
    return [data[offset:offset + MiB] for offset in range(0, len(data), MiB)]


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- plain copies ---------------------------------------------------------------------------------

def test_small_file_goes_up_and_comes_back_byte_identical(server: TesseraServer, clients: Clients,
                                                          bucket_name: str, tmp_path: Path) -> None:
    source = tmp_path / "hello.txt"
    source.write_bytes(os.urandom(300_000))
    up = run_cli(server, "cp", str(source), f"oss://{bucket_name}/docs/", "--json", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    summary = json.loads(up.stdout)
    [copied] = summary["files"]
    assert copied["dst"] == f"oss://{bucket_name}/docs/hello.txt" and copied["bytes"] == 300_000
    v2 = clients.v2()
    head = v2.head_object(oss.HeadObjectRequest(bucket=bucket_name, key="docs/hello.txt"))
    assert head.hash_crc64 == copied["crc64"] == str(crc64(source.read_bytes()))
    assert object_bytes(v2, bucket_name, "docs/hello.txt") == source.read_bytes()

    down = run_cli(server, "cp", f"oss://{bucket_name}/docs/hello.txt", "back/", cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "back" / "hello.txt").read_bytes() == source.read_bytes()
    assert down.stdout.splitlines()[0] == (f"downloaded oss://{bucket_name}/docs/hello.txt -> back/hello.txt "
                                           f"(292.97 KiB)")
    assert down.stdout.splitlines()[1].startswith("copied 1 file, 292.97 KiB in ")
    assert down.stderr == "" and not list(tmp_path.glob("**/*.tessera-download"))


def test_existing_destinations_are_kept_unless_asked(server: TesseraServer, clients: Clients, bucket_name: str,
                                                     tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("first")
    assert run_cli(server, "cp", str(source), f"oss://{bucket_name}/a.txt").returncode == 0
    source.write_text("second")
    refused = run_cli(server, "cp", str(source), f"oss://{bucket_name}/a.txt")
    assert refused.returncode == 2
    assert one_line(refused.stderr) == (f"tessera: oss://{bucket_name}/a.txt exists; -f overwrites, "
                                        f"-u copies only newer files")
    v2 = clients.v2()
    assert object_bytes(v2, bucket_name, "a.txt") == b"first"
    os.utime(source, (0, 0))  # older than the object
    update = run_cli(server, "cp", "-u", str(source), f"oss://{bucket_name}/a.txt", "--json")
    assert update.returncode == 0 and json.loads(update.stdout)["skipped"] == [f"oss://{bucket_name}/a.txt"]
    assert object_bytes(v2, bucket_name, "a.txt") == b"first"
    assert run_cli(server, "cp", "-f", str(source), f"oss://{bucket_name}/a.txt").returncode == 0
    assert object_bytes(v2, bucket_name, "a.txt") == b"second"

    local = tmp_path / "local.txt"
    local.write_text("mine")
    kept = run_cli(server, "cp", f"oss://{bucket_name}/a.txt", str(local))
    assert kept.returncode == 2 and "exists" in kept.stderr and local.read_text() == "mine"


def test_directory_tree_with_unicode_names_round_trips(server: TesseraServer, clients: Clients, bucket_name: str,
                                                      tmp_path: Path) -> None:
    tree = {
        "日本語/ファイル.txt": "こんにちは".encode(),
        "emoji-😀.bin": os.urandom(1000),
        "nested/a/b/deep.txt": b"deep",
        "empty.txt": b"",
        "with space & +plus.txt": b"odd characters",
        "big/multipart.bin": os.urandom(3 * MiB + 17),  # above the threshold: parts, inside -r too
    }
    source = tmp_path / "tree"
    for name, data in tree.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    (source / "empty-dir").mkdir()
    up = run_cli(server, "cp", "-r", str(source), f"oss://{bucket_name}/backup", *PARTS, "--json", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    uploaded = {entry["dst"]: entry for entry in json.loads(up.stdout)["files"]}
    assert uploaded[f"oss://{bucket_name}/backup/big/multipart.bin"]["parts"] == 4
    v2 = clients.v2()
    keys = [entry.key for page in v2.list_objects_v2_paginator().iter_page(
        oss.ListObjectsV2Request(bucket=bucket_name, encoding_type="url")) for entry in page.contents or []]
    assert sorted(keys) == sorted(f"backup/{name}" for name in tree)
    assert not (tmp_path / ".tessera-checkpoints").exists()  # the default directory, gone once done

    down = run_cli(server, "cp", "-r", f"oss://{bucket_name}/backup", str(tmp_path / "restored"), *PARTS,
                   cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    restored = {str(path.relative_to(tmp_path / "restored")): path.read_bytes()
                for path in (tmp_path / "restored").rglob("*") if path.is_file()}
    assert restored == tree
    assert f"copied {len(tree)} files" in down.stdout


# --- resuming -------------------------------------------------------------------------------------

def upload_under_way(server: TesseraServer, bucket: str, big_file: Path,
                     tmp_path: Path) -> tuple[oss.Client, tuple[str, ...], subprocess.Popen[str], str]:
    """Start a slow multipart ``cp`` of ``big_file`` to ``oss://BUCKET/big.bin`` and return once
    at least 8 parts are stored: (client, the command, the copying process, the upload ID)."""
    v2 = new_bucket(server, bucket)
    command = ("cp", str(big_file), f"oss://{bucket}/big.bin", *PARTS, *SLOW, "--checkpoint-dir", "ck", "--json")
    copying = start_cli(server, *command, cwd=tmp_path)
    upload_id = wait_for(lambda: (checkpoint_of(tmp_path / "ck", "upload") or {}).get("upload_id"), copying,
                         "the upload was recorded")
    wait_for(lambda: len(listed_parts(v2, bucket, "big.bin", upload_id)) >= 8, copying, "8 parts")
    return v2, command, copying, str(upload_id)


def test_upload_killed_mid_way_sends_only_the_missing_parts(own_server: TesseraServer, big_file: Path,
                                                            tmp_path: Path) -> None:
    v2, command, copying, upload_id = upload_under_way(own_server, "killed-upload", big_file, tmp_path)
    copying.send_signal(signal.SIGKILL)
    copying.communicate()
    time.sleep(0.3)  # a part the server was still receiving has failed or landed by now
    before = listed_parts(v2, "killed-upload", "big.bin", upload_id)
    assert 8 <= len(before) < 64
    sent_before = requests_answered(own_server, "UploadPart", "200")

    again = run_cli(own_server, *command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    [result] = json.loads(again.stdout)["files"]
    assert result["parts"] == 64 and result["resumed_parts"] == len(before)
    assert result["transferred"] == (64 - len(before)) * MiB
    assert requests_answered(own_server, "UploadPart", "200") - sent_before == 64 - len(before)
    head = v2.head_object(oss.HeadObjectRequest(bucket="killed-upload", key="big.bin"))
    assert head.hash_crc64 == result["crc64"] == str(crc64(big_file.read_bytes()))
    assert hashlib.sha256(object_bytes(v2, "killed-upload", "big.bin")).hexdigest() == sha256(big_file)
    uploads = v2.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket="killed-upload"))
    assert not uploads.uploads
    assert not (tmp_path / "ck").exists()


def test_ctrl_c_keeps_the_parts_and_the_checkpoint_for_the_next_run(own_server: TesseraServer, big_file: Path,
                                                                   tmp_path: Path) -> None:
    v2, command, copying, upload_id = upload_under_way(own_server, "interrupted-upload", big_file, tmp_path)
    copying.send_signal(signal.SIGINT)
    _, stderr = copying.communicate(timeout=60)
    assert copying.returncode == 130
    assert one_line(stderr) == "tessera: interrupted; run the same command again to continue"
    stored = listed_parts(v2, "interrupted-upload", "big.bin", upload_id)
    assert 8 <= len(stored) < 64
    assert (checkpoint_of(tmp_path / "ck", "upload") or {}).get("upload_id") == upload_id

    again = run_cli(own_server, *command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    [result] = json.loads(again.stdout)["files"]
    assert result["resumed_parts"] == len(stored) and result["crc64"] == str(crc64(big_file.read_bytes()))
    assert not (tmp_path / "ck").exists()


def test_download_killed_mid_way_fetches_only_the_missing_ranges(own_server: TesseraServer, big_file: Path,
                                                                 tmp_path: Path) -> None:
    v2 = new_bucket(own_server, "killed-download")
    v2.put_object(oss.PutObjectRequest(bucket="killed-download", key="big.bin", body=big_file.read_bytes()))
    target = tmp_path / "copy.bin"
    command = ("cp", "oss://killed-download/big.bin", str(target), *PARTS, *SLOW,
               "--checkpoint-dir", "ck", "--json")
    copying = start_cli(own_server, *command, cwd=tmp_path)
    wait_for(lambda: len((checkpoint_of(tmp_path / "ck", "download") or {}).get("done", [])) >= 8, copying,
             "8 ranges")
    copying.send_signal(signal.SIGKILL)
    copying.communicate()
    recorded = checkpoint_of(tmp_path / "ck", "download")
    done = len(recorded["done"])  # type: ignore[index]
    assert 8 <= done < 64 and not target.exists() and Path(recorded["temporary"]).exists()  # type: ignore[index]
    fetched_before = requests_answered(own_server, "GetObject", "206")

    again = run_cli(own_server, *command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    [result] = json.loads(again.stdout)["files"]
    assert result["resumed_parts"] == done and result["transferred"] == (64 - done) * MiB
    assert requests_answered(own_server, "GetObject", "206") - fetched_before == 64 - done
    assert sha256(target) == sha256(big_file)
    assert result["crc64"] == str(crc64(big_file.read_bytes()))
    assert not (tmp_path / "copy.bin.tessera-download").exists() and not (tmp_path / "ck").exists()


def test_server_crash_mid_upload_then_the_same_command_finishes(own_server: TesseraServer, big_file: Path,
                                                                tmp_path: Path) -> None:
    v2, command, copying, upload_id = upload_under_way(own_server, "crashed-server", big_file, tmp_path)
    own_server.kill()
    _, stderr = copying.communicate(timeout=120)
    assert copying.returncode == 1
    assert one_line(stderr).startswith("tessera: ")
    own_server.start()  # same data directory, same port

    stored = listed_parts(v2, "crashed-server", "big.bin", upload_id)
    again = run_cli(own_server, *command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    [result] = json.loads(again.stdout)["files"]
    assert result["resumed_parts"] == len(stored) >= 8
    assert hashlib.sha256(object_bytes(v2, "crashed-server", "big.bin")).hexdigest() == sha256(big_file)


def _forge_upload(server: TesseraServer, client: oss.Client, bucket: str, source: Path, checkpoints: Path,
                  parts: dict[int, bytes]) -> str:
    """An upload holding ``parts``, and the checkpoint a killed run would have left for it."""
    upload_id = client.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=bucket,
                                                                                    key="f.bin")).upload_id
    for number, body in parts.items():
        client.upload_part(oss.UploadPartRequest(bucket=bucket, key="f.bin", upload_id=upload_id,
                                                 part_number=number, body=body))
    info = source.stat()
    store = CheckpointStore(checkpoints)
    store.save(store.path_for("upload", str(source.resolve()), bucket, "f.bin"), UploadCheckpoint(
        source=str(source.resolve()), size=info.st_size, mtime_ns=info.st_mtime_ns, part_size=MiB, bucket=bucket,
        key="f.bin", storage_class=None, upload_id=upload_id))
    return upload_id


def test_resume_keeps_matching_parts_across_gaps_and_resends_the_rest(own_server: TesseraServer,
                                                                     tmp_path: Path) -> None:
    v2 = new_bucket(own_server, "gapped-upload")
    data = os.urandom(12 * MiB)
    source = tmp_path / "f.bin"
    source.write_bytes(data)
    chunks = _ranges(data)
    good = {number: chunks[number - 1] for number in (1, 3, 4, 8, 11)}
    damaged = {5: os.urandom(MiB), 9: chunks[8][:-1]}  # wrong bytes; right bytes but one short
    _forge_upload(own_server, v2, "gapped-upload", source, tmp_path / "ck", good | damaged)
    sent_before = requests_answered(own_server, "UploadPart", "200")
    done = run_cli(own_server, "cp", str(source), "oss://gapped-upload/f.bin", *PARTS, "--checkpoint-dir", "ck",
                   "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)["files"]
    assert (result["parts"], result["resumed_parts"]) == (12, len(good))
    assert requests_answered(own_server, "UploadPart", "200") - sent_before == 12 - len(good)
    assert object_bytes(v2, "gapped-upload", "f.bin") == data


def test_a_changed_source_aborts_the_recorded_upload_and_starts_over(own_server: TesseraServer,
                                                                     tmp_path: Path) -> None:
    v2 = new_bucket(own_server, "changed-source")
    source = tmp_path / "f.bin"
    source.write_bytes(os.urandom(4 * MiB))
    old_upload = _forge_upload(own_server, v2, "changed-source", source, tmp_path / "ck",
                               {1: source.read_bytes()[:MiB]})
    source.write_bytes(os.urandom(4 * MiB))  # edited since the interrupted run
    done = run_cli(own_server, "cp", str(source), "oss://changed-source/f.bin", *PARTS, "--checkpoint-dir", "ck",
                   "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"][0]["resumed_parts"] == 0
    assert object_bytes(v2, "changed-source", "f.bin") == source.read_bytes()
    left = v2.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket="changed-source")).uploads or []
    assert old_upload not in [upload.upload_id for upload in left] and not left


# --- CRC-64 checks --------------------------------------------------------------------------------

def _forge_download(server: TesseraServer, bucket: str, target: Path, data: bytes, temporary_bytes: bytes,
                    recorded_crcs: list[int]) -> None:
    """A checkpoint, as a killed run would leave it, claiming every range done."""
    head = Clients(server).v2().head_object(oss.HeadObjectRequest(bucket=bucket, key="obj"))
    store = CheckpointStore(target.parent / "ck")
    temporary = target.with_name(target.name + ".tessera-download")
    temporary.write_bytes(temporary_bytes)
    store.save(store.path_for("download", bucket, "obj", str(target.resolve())), DownloadCheckpoint(
        bucket=bucket, key="obj", etag=head.etag, size=len(data), last_modified=str(head.last_modified),
        part_size=MiB, destination=str(target.resolve()), temporary=str(temporary),
        done={number: crc for number, crc in enumerate(recorded_crcs, start=1)}))


def test_bytes_that_do_not_match_the_object_never_reach_the_destination(server: TesseraServer, clients: Clients,
                                                                         bucket_name: str, tmp_path: Path) -> None:
    data = os.urandom(4 * MiB)
    clients.v2().put_object(oss.PutObjectRequest(bucket=bucket_name, key="obj", body=data))
    target = tmp_path / "obj.bin"
    wrong = bytearray(data)
    wrong[2 * MiB + 5] ^= 0xFF
    _forge_download(server, bucket_name, target, data, bytes(wrong), [crc64(chunk) for chunk in _ranges(bytes(wrong))])
    command = ("cp", f"oss://{bucket_name}/obj", str(target), *PARTS, "--checkpoint-dir", "ck")
    failed = run_cli(server, *command, cwd=tmp_path)
    assert failed.returncode == 1
    assert one_line(failed.stderr).startswith(f"tessera: CRC-64 mismatch for oss://{bucket_name}/obj: local ")
    assert not target.exists() and not (tmp_path / "obj.bin.tessera-download").exists()
    assert not (tmp_path / "ck").exists()  # known bad: the next run starts afresh
    again = run_cli(server, *command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert target.read_bytes() == data


def test_a_damaged_range_of_an_interrupted_download_is_fetched_again(server: TesseraServer, clients: Clients,
                                                                     bucket_name: str, tmp_path: Path) -> None:
    data = os.urandom(4 * MiB)
    clients.v2().put_object(oss.PutObjectRequest(bucket=bucket_name, key="obj", body=data))
    target = tmp_path / "obj.bin"
    damaged = bytearray(data)
    damaged[3 * MiB + 9] ^= 0x01
    _forge_download(server, bucket_name, target, data, bytes(damaged), [crc64(chunk) for chunk in _ranges(data)])
    done = run_cli(server, "cp", f"oss://{bucket_name}/obj", str(target), *PARTS, "--checkpoint-dir", "ck",
                   "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)["files"]
    assert result["resumed_parts"] == 3 and result["transferred"] == MiB
    assert target.read_bytes() == data


# --- output ---------------------------------------------------------------------------------------

def test_progress_bar_on_a_terminal_and_plain_lines_in_a_pipe(server: TesseraServer, bucket_name: str,
                                                              tmp_path: Path) -> None:
    source = tmp_path / "p.bin"
    source.write_bytes(os.urandom(3 * MiB))
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "tessera", "cp", str(source), f"oss://{bucket_name}/p.bin"],
                               env=cli_env(server), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the copy is over
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    bar = shown.decode()
    assert "100%" in bar and "\r" in bar and "/s" in bar and "1/1 files" in bar
    assert stdout.decode().startswith("copied 1 file, 3.00 MiB in ")  # no per-file line under a bar

    piped = run_cli(server, "cp", "-f", str(source), f"oss://{bucket_name}/p.bin")
    assert piped.returncode == 0 and piped.stderr == ""
    assert "\r" not in piped.stdout and "%" not in piped.stdout
    assert piped.stdout.splitlines()[0] == f"uploaded {source} -> oss://{bucket_name}/p.bin (3.00 MiB)"
    quiet = run_cli(server, "cp", "-f", "-q", str(source), f"oss://{bucket_name}/p.bin")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


# --- errors ---------------------------------------------------------------------------------------

def test_local_mistakes_are_one_line_and_exit_2(server: TesseraServer, bucket_name: str, tmp_path: Path) -> None:
    missing = run_cli(server, "cp", str(tmp_path / "nope.txt"), f"oss://{bucket_name}/")
    assert missing.returncode == 2
    assert one_line(missing.stderr) == f"tessera: {tmp_path / 'nope.txt'}: no such file or directory"
    directory = run_cli(server, "cp", str(tmp_path), f"oss://{bucket_name}/")
    assert directory.returncode == 2 and "use -r" in one_line(directory.stderr)
    both_local = run_cli(server, "cp", str(tmp_path), str(tmp_path / "x"))
    assert both_local.returncode == 2 and "oss://" in one_line(both_local.stderr)
    bad_size = run_cli(server, "cp", "--part-size", "ten", str(tmp_path), f"oss://{bucket_name}/")
    assert bad_size.returncode == 2 and "not a size" in bad_size.stderr
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as sparse:
        sparse.truncate(1024 * MiB)  # 10486 parts of 100 KiB: more than OSS allows
    too_many = run_cli(server, "cp", str(huge), f"oss://{bucket_name}/", "--part-size", "100KiB")
    assert too_many.returncode == 2 and "more than 10000 parts" in one_line(too_many.stderr)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "dangling").symlink_to(tmp_path / "gone")
    dangling = run_cli(server, "cp", "-r", str(tree), f"oss://{bucket_name}/tree/")
    assert dangling.returncode == 2
    assert one_line(dangling.stderr) == f"tessera: {tree / 'dangling'}: No such file or directory"


def test_server_errors_are_one_line_with_code_and_request_id(server: TesseraServer, bucket_name: str,
                                                            tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    no_bucket = run_cli(server, "cp", str(source), "oss://no-such-bucket-for-cp/f.txt")
    assert no_bucket.returncode == 1
    line = one_line(no_bucket.stderr)
    assert line.startswith("tessera: NoSuchBucket: ") and "request ID" in line
    no_key = run_cli(server, "cp", f"oss://{bucket_name}/missing", str(tmp_path / "m"))
    assert no_key.returncode == 1
    assert "NoSuchKey" in one_line(no_key.stderr) and "request ID" in no_key.stderr
    assert not (tmp_path / "m").exists()


def test_max_speed_holds_a_copy_back(server: TesseraServer, bucket_name: str, tmp_path: Path) -> None:
    source = tmp_path / "four.bin"
    source.write_bytes(os.urandom(4 * MiB))
    started = time.monotonic()
    done = run_cli(server, "cp", str(source), f"oss://{bucket_name}/four.bin", *PARTS, "--max-speed", "2MiB")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started >= 1.5  # 4 MiB at 2 MiB/s: about 2 s, whatever the machine
    refused = run_cli(server, "cp", str(source), f"oss://{bucket_name}/x", "--max-speed", "0")
    assert refused.returncode == 2
