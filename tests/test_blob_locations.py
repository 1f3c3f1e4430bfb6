"""--blobs URL: which backend each URL names, and the URLs refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.blobs.backend import BlobSlice, slice_blobs
from tessera.blobs.files import FileBlobs
from tessera.blobs.locations import BadBlobsUrl, default_blobs_url, open_blobs


def test_a_file_url_is_a_directory_of_blob_files(tmp_path: Path) -> None:
    backend = open_blobs(f"file://{tmp_path}/blobs%20here")
    assert isinstance(backend, FileBlobs)
    assert backend.root == tmp_path / "blobs here"
    assert (tmp_path / "blobs here" / "blobs").is_dir() and (tmp_path / "blobs here" / "tmp").is_dir()
    assert open_blobs(f"file://localhost{tmp_path}").root == tmp_path


def test_the_default_is_the_data_directory(tmp_path: Path) -> None:
    assert open_blobs(default_blobs_url(tmp_path)).root == tmp_path.resolve()


def test_an_s3_url_names_bucket_prefix_and_options() -> None:
    from tessera.blobs.s3 import S3Blobs, S3Location

    location = S3Location.parse("s3://blobs/a/b/?endpoint=http://127.0.0.1:8333&region=cn-hangzhou&timeout=5")
    assert location == S3Location("blobs", "a/b/", "http://127.0.0.1:8333", "cn-hangzhou", False, 5.0)
    assert S3Location.parse("s3://blobs?addressing=virtual") == S3Location("blobs", "", None, "us-east-1", True, 30.0)
    backend = open_blobs("s3://blobs/gw?endpoint=http://127.0.0.1:8333")
    assert isinstance(backend, S3Blobs) and backend.key("ab12") == "gw/blobs/ab12"
    assert backend.describe() == "s3://blobs/gw/ at http://127.0.0.1:8333"


@pytest.mark.parametrize("url, reason", [
    ("s3:///prefix", "name the bucket"),
    ("s3://b?endpoint=ftp://host", "http:// or https://"),
    ("s3://b?addressing=sideways", "path or virtual"),
    ("s3://b?timeout=0", "seconds"),
    ("s3://b?secret=x", "unknown option 'secret'"),
    ("file://elsewhere/srv", "not a host"),
    ("file://relative", "not a host"),
    ("file:relative/dir", "absolute"),
    ("file:///srv/x?fsync=no", "no options"),
    ("ftp://host/dir", "unknown blob backend 'ftp'"),
    ("/srv/tessera", "unknown blob backend ''"),
])
def test_urls_tessera_cannot_use_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(BadBlobsUrl, match=reason):
        open_blobs(url)


def test_a_range_of_several_blobs_is_sliced_at_their_boundaries() -> None:
    pieces = [("a", 10), ("empty", 0), ("b", 5), ("c", 7)]
    assert slice_blobs(pieces, 0, 21) == [BlobSlice("a", 0, 10), BlobSlice("b", 0, 5), BlobSlice("c", 0, 7)]
    assert slice_blobs(pieces, 9, 15) == [BlobSlice("a", 9, 1), BlobSlice("b", 0, 5), BlobSlice("c", 0, 1)]
    assert slice_blobs(pieces, 11, 12) == [BlobSlice("b", 1, 2)]
    assert slice_blobs(pieces, 21, 21) == [BlobSlice("c", 6, 1)]
