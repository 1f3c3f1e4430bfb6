"""What must hold of a server's storage after anything at all: every blob file owned and every
owner whole, and GetBucketStat equal to what the listings show."""

from __future__ import annotations

from collections import Counter
from xml.etree import ElementTree

from tests.support import raw
from tests.support.server import TesseraServer


def assert_consistent(server: TesseraServer) -> tuple[int, int]:
    """Collect everything unowned and released right away (``tessera admin gc --grace-seconds 0
    --release-delay-seconds 0``: the server must have no write or read in flight), then ``tessera admin fsck`` must be clean with no unreferenced
    file, the blob bytes on disk must equal the bytes metadata owns, and ``tmp/`` must be empty.
    Returns (blob files, their bytes)."""
    collected = server.admin("gc", "--grace-seconds", "0", "--release-delay-seconds", "0")
    assert collected.returncode == 0, f"exit {collected.returncode}\n{collected.stdout}{collected.stderr}"
    checked = server.admin("fsck")
    assert checked.returncode == 0, f"exit {checked.returncode}\n{checked.stdout}{checked.stderr}"
    figures = dict(line.split(": ", 1) for line in checked.stdout.splitlines() if ": " in line)
    assert figures["unreferenced files"] == "0", checked.stdout
    assert figures["blob bytes on disk"] == figures["blob bytes owned"], checked.stdout
    if server.blobs_url is None or server.blobs_url.startswith("file:"):
        assert not list((server.blobs_dir / "tmp").iterdir())
    return int(figures["blob files"]), int(figures["blob bytes on disk"])


def assert_bucket_stat(server: TesseraServer, bucket: str, found: Counter) -> None:
    """GetBucketStat (its XML: oss2's model lacks the part counters) against counts made from
    the listings: ``found`` has objects, object_bytes, uploads, parts, part_bytes."""
    answer = raw.request(server, "GET", bucket, query={"stat": ""})
    assert answer.status == 200, answer.body
    stat = {child.tag: child.text for child in ElementTree.fromstring(answer.body)}
    expected = {
        "ObjectCount": found["objects"],
        "Storage": found["object_bytes"] + found["part_bytes"],
        "MultipartUploadCount": found["uploads"],
        "MultipartPartCount": found["parts"],
        "MultipartPartStorage": found["part_bytes"],
    }
    assert {name: int(stat[name]) for name in expected} == expected
