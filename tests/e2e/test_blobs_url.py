"""``--blobs URL``: the bytes live where the URL says, every server command finds them there, and
a URL Tessera cannot use stops the command before it starts, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, start_server
from tests.support import raw
from tests.support.clients import Clients, multipart_object


@pytest.mark.parametrize("backend", BACKENDS)
def test_blobs_live_in_the_directory_the_url_names(backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                                   request: pytest.FixtureRequest) -> None:
    elsewhere = tmp_path / "shared blobs"
    url = f"file://{elsewhere}".replace(" ", "%20")
    server = start_server(tmp_path_factory, request, backend, blobs_url=url)
    try:
        assert f"blobs: {url}," in server.log_text()
        bucket = Clients(server).oss2_bucket("elsewhere")
        bucket.create_bucket()
        bucket.put_object("small", b"x" * 1000)
        data = multipart_object(bucket, "multipart", parts=2, part_size=100 * 1024)
        assert bucket.get_object("small").read() == b"x" * 1000
        assert bucket.get_object("multipart", byte_range=(100 * 1024 - 1, 100 * 1024)).read() == data[102399:102401]
        assert len(raw.blob_files(elsewhere)) == 3  # one object's blob, two parts' blobs
        assert not (server.data_dir / "blobs").exists() or not raw.blob_files(server.data_dir)
        checked = server.admin("fsck")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "blob files: 3\n" in checked.stdout, checked.stdout
    finally:
        server.stop()


@pytest.mark.parametrize("url", ["ftp://host/dir", "file://host/dir", "file:relative"])
def test_a_blobs_url_tessera_cannot_use_is_refused_in_one_line(tmp_path: Path, url: str) -> None:
    for command in (["serve", "--port", "0"], ["admin", "fsck"]):
        env = {**os.environ, "OSS_ACCESS_KEY_ID": "id", "OSS_ACCESS_KEY_SECRET": "secret"}
        done = subprocess.run([sys.executable, "-m", "tessera", *command, "--data-dir", str(tmp_path / "data"),
                               "--blobs", url], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith(f"tessera: {url}: ") and done.stderr.count("\n") == 1, done.stderr
