"""ossfs (the fsspec filesystem pandas and dask use for ``oss://`` paths), unchanged, against
Tessera: it writes every file with AppendObject."""

from __future__ import annotations

import hashlib
import os
from collections import Counter

import oss2
import ossfs  # installed by scripts/install --test, without its pins (see there)
import pytest

from tessera.blobs.checksums import crc64
from tests.support.checks import assert_bucket_stat, assert_consistent
from tests.support.clients import Clients
from tests.support.server import TesseraServer


@pytest.fixture
def fs(server: TesseraServer) -> "ossfs.OSSFileSystem":
    return ossfs.OSSFileSystem(endpoint=server.endpoint, key=server.access_key_id, secret=server.access_key_secret,
                               skip_instance_cache=True)


# ossfs appends at fsspec's file position, which already counts the bytes still in its buffer:
# a file it flushes more than once (several writes adding up to more than its block size) asks
# for a position past the object's length, and OSS refuses that as Tessera does
# (docs/compatibility.md, AppendObject). These are the ways ossfs writes a large file correctly.
@pytest.mark.parametrize("how", ["one write", "many writes, one block"])
def test_ossfs_writes_a_20_mib_file_and_reads_it_back(server: TesseraServer, clients: Clients, bucket_name: str,
                                                      fs: "ossfs.OSSFileSystem", how: str) -> None:
    data = os.urandom(20 * 1024 * 1024 + 12345)
    path = f"/{bucket_name}/data/big.bin"
    if how == "one write":
        with fs.open(path, "wb") as file:
            file.write(data)
    else:
        with fs.open(path, "wb", block_size=32 * 1024 * 1024) as file:
            for start in range(0, len(data), 1024 * 1024 + 7):
                file.write(data[start:start + 1024 * 1024 + 7])
    with fs.open(path, "rb") as file:
        assert hashlib.sha256(file.read()).digest() == hashlib.sha256(data).digest()
        file.seek(10 * 1024 * 1024 - 5)
        assert file.read(10) == data[10 * 1024 * 1024 - 5:10 * 1024 * 1024 + 5]
    head = clients.oss2_bucket(bucket_name).head_object("data/big.bin")
    assert (head.object_type, head.content_length, head.server_crc) == ("Appendable", len(data), crc64(data))
    assert fs.info(path)["size"] == len(data)
    assert_consistent(server)
    assert_bucket_stat(server, bucket_name, Counter(objects=1, object_bytes=len(data)))


def test_ossfs_overwrites_lists_finds_and_removes(server: TesseraServer, clients: Clients, bucket_name: str,
                                                  fs: "ossfs.OSSFileSystem") -> None:
    root = f"/{bucket_name}"
    for name, body in (("a/one.txt", b"one"), ("a/b/two.txt", b"two" * 1000), ("top.txt", b"top")):
        with fs.open(f"{root}/{name}", "wb") as file:
            file.write(body)
    with fs.open(f"{root}/a/one.txt", "wb") as file:  # "w" replaces: ossfs deletes, then appends
        file.write(b"ONE, again")
    assert fs.cat_file(f"{root}/a/one.txt") == b"ONE, again"
    with fs.open(f"{root}/a/one.txt", "ab") as file:
        file.write(b" and more")
    assert fs.cat_file(f"{root}/a/one.txt") == b"ONE, again and more"
    # ossfs names paths with a leading '/' (as given) and directories with a trailing one.
    assert sorted(fs.ls(root, detail=False)) == [f"{root}/a/", f"{root}/top.txt"]
    listed = {entry["name"]: (entry["type"], entry["size"]) for entry in fs.ls(f"{root}/a")}
    assert listed == {f"{root}/a/b/": ("directory", 0), f"{root}/a/one.txt": ("file", 19)}
    assert fs.find(root) == [f"{root}/a/b/two.txt", f"{root}/a/one.txt", f"{root}/top.txt"]
    assert fs.exists(f"{root}/a/b/two.txt") and fs.isdir(f"{root}/a")
    fs.rm(f"{root}/a", recursive=True)
    assert fs.find(root) == [f"{root}/top.txt"]
    bucket = clients.oss2_bucket(bucket_name)
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["top.txt"]
    assert_consistent(server)
    assert_bucket_stat(server, bucket_name, Counter(objects=1, object_bytes=3))


def test_oss_urls_through_fsspec(server: TesseraServer, bucket_name: str) -> None:
    """What pandas and dask do with ``oss://`` paths: fsspec picks ossfs by the protocol."""
    import fsspec

    options = {"endpoint": server.endpoint, "key": server.access_key_id, "secret": server.access_key_secret}
    rows = "".join(f"{n},{n * n}\n" for n in range(1000)).encode()
    with fsspec.open(f"oss://{bucket_name}/tables/squares.csv", "wb", **options) as file:
        file.write(rows)
    with fsspec.open(f"oss://{bucket_name}/tables/squares.csv", "rb", **options) as file:
        assert file.read() == rows
    fs, _ = fsspec.core.url_to_fs(f"oss://{bucket_name}", **options)
    assert fs.du(f"/{bucket_name}/tables") == len(rows)
