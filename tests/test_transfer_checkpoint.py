"""Checkpoints of interrupted transfers: whole or absent, never half; and the parallel runner that
stops a copy at its first failure."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tessera.client.transfer.checkpoint import CheckpointStore, DownloadCheckpoint, UploadCheckpoint
from tessera.client.transfer.parallel import Cancelled, run_in_parallel


def _upload() -> UploadCheckpoint:
    return UploadCheckpoint(source="/data/日本語.bin", size=10, mtime_ns=123, part_size=4, bucket="b", key="k/😀",
                            storage_class=None, upload_id="U1")


def test_checkpoints_round_trip_and_are_replaced_whole(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "ck")
    path = store.path_for("upload", "/data/日本語.bin", "b", "k/😀")
    assert store.load(path, UploadCheckpoint) is None
    store.save(path, _upload())
    assert store.load(path, UploadCheckpoint) == _upload()
    assert store.load(path, DownloadCheckpoint) is None  # another kind: ignored
    download = DownloadCheckpoint(bucket="b", key="k", etag='"E"', size=10, last_modified="t", part_size=4,
                                  destination="/d", temporary="/d.tessera-download", done={3: 99, 1: 2**64 - 1})
    other = store.path_for("download", "b", "k", "/d")
    store.save(other, download)
    assert store.load(other, DownloadCheckpoint) == download
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == sorted([path.name, other.name])  # no temporaries


def test_names_differ_by_what_is_transferred(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    assert store.path_for("upload", "a", "b", "c") != store.path_for("upload", "a", "b", "d")
    assert store.path_for("upload", "a", "b", "c") != store.path_for("download", "a", "b", "c")


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"version": 99, "kind": "UploadCheckpoint"}',
                                     b'{"version": 1, "kind": "UploadCheckpoint", "source": "x"}'])
def test_unreadable_checkpoints_mean_starting_over(tmp_path: Path, content: bytes) -> None:
    store = CheckpointStore(tmp_path)
    path = store.path_for("upload", "x")
    path.write_bytes(content)
    assert store.load(path, UploadCheckpoint) is None


def test_removing_the_last_checkpoint_removes_the_directory(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "ck")
    first, second = store.path_for("upload", "1"), store.path_for("upload", "2")
    store.save(first, _upload())
    store.save(second, _upload())
    store.remove(first)
    assert (tmp_path / "ck").is_dir()
    store.remove(second)
    assert not (tmp_path / "ck").exists()


def test_the_first_failure_cancels_the_rest_and_is_raised() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(item: int, cancelled: threading.Event) -> int:
        with lock:
            started.append(item)
        if item == 2:
            raise OSError("disk full")
        for _ in range(200):  # a long part, checking between blocks
            if cancelled.is_set():
                raise Cancelled()
            time.sleep(0.005)
        return item

    with pytest.raises(OSError, match="disk full"):
        list(run_in_parallel(work, range(1, 50), workers=3))
    assert len(started) < 10  # what had not started never did


def test_results_come_as_they_finish() -> None:
    assert sorted(run_in_parallel(lambda item, cancelled: item * 2, range(20), workers=4)) == [i * 2 for i in range(20)]


def test_a_killed_writers_temporary_file_does_not_keep_the_directory(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tessera.client.transfer.checkpoint import TEMPORARY_PREFIX, CheckpointStore

    store = CheckpointStore(tmp_path / "ck")
    (tmp_path / "ck").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / "ck" / f"{TEMPORARY_PREFIX}{dead}.abc123").write_text("{half")  # killed mid-save
    store.remove(tmp_path / "ck" / "done.upload.json")
    assert not (tmp_path / "ck").exists()
