"""A mixed load from several clients, and the model of what each client was told.

Each client works on keys of its own (``<name>/…``), one request at a time, through oss2:
small and 1–8 MiB PUTs, multipart uploads whose part numbers are sometimes uploaded again,
Complete, Abort, Delete and Copy. For every key and upload the client keeps what may be there
now: exactly one state once a request was answered, and both the old and the new state while
one is in flight — which is what a request cut off by a crash leaves. ``verify`` compares the
server with that model (and then knows the state again), so a test can kill the server at any
moment and check that every acknowledged write is there, byte for byte, and nothing else is.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

import oss2
from oss2.models import PartInfo

from tests.support.checks import assert_bucket_stat, assert_consistent
from tests.support.server import TesseraServer

KiB, MiB = 1024, 1024 * 1024
MAX_KEYS = 8        # object keys per client
MAX_UPLOADS = 2     # incomplete uploads per client
MAX_PARTS = 5       # parts per upload

Digest = str | None  # MD5 hex of an object's bytes; None: no object


@dataclass(frozen=True)
class PartVersion:
    etag: str
    data: bytes


@dataclass
class UploadModel:
    key: str
    parts: dict[int, PartVersion] = field(default_factory=dict)
    # While a part upload is in flight: (number, the version before, the one being sent).
    pending_part: tuple[int, PartVersion | None, PartVersion] | None = None
    may_be_gone: bool = False  # a Complete or Abort was in flight


@dataclass
class Failure:
    operation: str
    error: str


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class Client:
    """One client of the load: its own keys, its model, its figures."""

    def __init__(self, name: str, bucket: oss2.Bucket, seed: int, *, large_puts: bool = True) -> None:
        self.name = name
        self.bucket = bucket
        self.random = random.Random(seed)
        self.large_puts = large_puts
        self.objects: dict[str, set[Digest]] = {}
        self.uploads: dict[str, UploadModel] = {}
        self.initiating: str | None = None  # key of an Initiate in flight
        self.acknowledged: Counter[str] = Counter()
        self.failures: list[Failure] = []
        self.latencies: dict[str, list[float]] = {}
        self.uncertain = 0

    # --- the load ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, on_connection_error: str = "stop") -> None:
        """Send requests until ``stop`` is set. A request that gets no answer (the server was
        killed) ends the run with its state left uncertain, or — ``on_connection_error="fail"`` —
        counts as a failure."""
        while not stop.is_set():
            operation = self._choose()
            started = time.perf_counter()
            try:
                operation()
            except oss2.exceptions.RequestError as error:  # no answer: the server went away
                if on_connection_error == "fail":
                    self.failures.append(Failure(operation.__name__, repr(error)))
                self.uncertain += 1
                return
            except oss2.exceptions.OssError as error:  # refused: the test fails; verify settles the model
                self.failures.append(Failure(operation.__name__, f"{error.status} {error.code} {error.message}"))
                return
            except Exception as error:  # a wrong answer (ETag) or a bug of the load itself
                self.failures.append(Failure(operation.__name__, repr(error)))
                return
            self.latencies.setdefault(operation.__name__.lstrip("_"), []).append(time.perf_counter() - started)
            self.acknowledged[operation.__name__.lstrip("_")] += 1

    def _choose(self) -> Callable[[], None]:
        choices: list[tuple[Callable[[], None], int]] = [(self._put_small, 25), (self._delete, 8)]
        if self.large_puts:
            choices.append((self._put_large, 4))
        if len(self.uploads) < MAX_UPLOADS:
            choices.append((self._initiate, 8))
        if self.uploads:
            choices += [(self._upload_part, 30), (self._abort, 4)]
        if any(u.parts for u in self.uploads.values()):
            choices.append((self._complete, 10))
        if self._existing():
            choices.append((self._copy, 8))
        functions, weights = zip(*choices)
        return self.random.choices(functions, weights)[0]

    def _key(self) -> str:
        return f"{self.name}/k{self.random.randrange(MAX_KEYS)}"

    def _existing(self) -> list[str]:
        return sorted(k for k, states in self.objects.items() if len(states) == 1 and None not in states)

    def _write(self, key: str, new: Digest, send: Callable[[], None]) -> None:
        before = self.objects.get(key, {None})
        self.objects[key] = before | {new}
        send()
        self.objects[key] = {new}

    def _put_small(self) -> None:
        data = os.urandom(self.random.randrange(0, 64 * KiB))
        key = self._key()
        self._write(key, md5(data), lambda: self._checked_put(key, data))

    def _put_large(self) -> None:
        data = os.urandom(self.random.randrange(1 * MiB, 8 * MiB))
        key = self._key()
        self._write(key, md5(data), lambda: self._checked_put(key, data))

    def _checked_put(self, key: str, data: bytes) -> None:
        result = self.bucket.put_object(key, data)
        assert result.etag.lower() == md5(data), (key, result.etag)

    def _delete(self) -> None:
        key = self._key()
        self._write(key, None, lambda: self.bucket.delete_object(key))

    def _copy(self) -> None:
        source = self.random.choice(self._existing())
        (digest,) = self.objects[source]
        target = source
        while target == source:
            target = self._key()
        self._write(target, digest, lambda: self.bucket.copy_object(self.bucket.bucket_name, source, target))

    def _initiate(self) -> None:
        key = self._key()
        self.initiating = key
        upload_id = self.bucket.init_multipart_upload(key).upload_id
        self.initiating = None
        self.uploads[upload_id] = UploadModel(key)

    def _upload_part(self) -> None:
        upload_id = self.random.choice(sorted(self.uploads))
        upload = self.uploads[upload_id]
        if upload.parts and (len(upload.parts) >= MAX_PARTS or self.random.random() < 0.3):
            number = self.random.choice(sorted(upload.parts))  # upload a part number again
        else:
            number = max(upload.parts, default=0) + 1
        data = os.urandom(self.random.randrange(100 * KiB, 400 * KiB))
        new = PartVersion(md5(data).upper(), data)
        upload.pending_part = (number, upload.parts.get(number), new)
        etag = self.bucket.upload_part(upload.key, upload_id, number, data).etag
        assert etag.upper() == new.etag
        upload.pending_part = None
        upload.parts[number] = new

    def _complete(self) -> None:
        upload_id = self.random.choice(sorted(u for u, m in self.uploads.items() if m.parts))
        upload = self.uploads[upload_id]
        numbers = sorted(upload.parts)
        data = b"".join(upload.parts[n].data for n in numbers)
        upload.may_be_gone = True

        def send() -> None:
            self.bucket.complete_multipart_upload(upload.key, upload_id,
                                                  [PartInfo(n, upload.parts[n].etag) for n in numbers])

        self._write(upload.key, md5(data), send)
        del self.uploads[upload_id]

    def _abort(self) -> None:
        upload_id = self.random.choice(sorted(self.uploads))
        self.uploads[upload_id].may_be_gone = True
        self.bucket.abort_multipart_upload(self.uploads[upload_id].key, upload_id)
        del self.uploads[upload_id]

    # --- checking the server against the model -----------------------------------------------

    def verify(self, bucket: oss2.Bucket) -> dict[str, int]:
        """Compare the server with the model, then take what the server holds as the model.
        Returns what was found: objects, their bytes, uploads, parts, part bytes."""
        prefix = self.name + "/"
        listed = {o.key: o for o in oss2.ObjectIteratorV2(bucket, prefix=prefix)}
        found = Counter()
        for key in sorted(set(self.objects) | set(listed)):
            possible = self.objects.get(key, {None})
            if key in listed:
                body = bucket.get_object(key).read()
                assert len(body) == listed[key].size, f"{key}: listed {listed[key].size} bytes, read {len(body)}"
                actual: Digest = md5(body)
                found["objects"] += 1
                found["object_bytes"] += len(body)
            else:
                actual = None
            assert actual in possible, f"{key}: holds {actual}, the client was told one of {possible}"
            self.objects[key] = {actual}
        listed_uploads = {u.upload_id: u.key for u in oss2.MultipartUploadIterator(bucket, prefix=prefix)}
        for upload_id, upload in list(self.uploads.items()):
            if upload_id not in listed_uploads:
                assert upload.may_be_gone, f"upload {upload_id} of {upload.key} vanished"
                del self.uploads[upload_id]
                continue
            upload.may_be_gone = False
            self._verify_parts(bucket, upload_id, upload, found)
        for upload_id, key in listed_uploads.items():
            if upload_id in self.uploads:
                continue
            assert key == self.initiating, f"upload {upload_id} of {key} was never initiated by this client"
            self.uploads[upload_id] = UploadModel(key)  # its Initiate was cut off: adopted
            self._verify_parts(bucket, upload_id, self.uploads[upload_id], found)
        self.initiating = None
        found["uploads"] = len(self.uploads)
        return dict(found)

    def _verify_parts(self, bucket: oss2.Bucket, upload_id: str, upload: UploadModel, found: Counter) -> None:
        listed = {p.part_number: p for p in oss2.PartIterator(bucket, upload.key, upload_id)}
        pending = upload.pending_part
        upload.pending_part = None
        numbers = set(upload.parts) | set(listed) | ({pending[0]} if pending else set())
        for number in sorted(numbers):
            possible = {upload.parts.get(number)}
            if pending and pending[0] == number:
                possible = {pending[1], pending[2]}
            part = listed.get(number)
            actual = next((v for v in possible if v is not None and part is not None
                           and v.etag == part.etag.strip('"').upper()), None)
            if part is None:
                assert None in possible, f"part {number} of {upload_id} vanished"
                upload.parts.pop(number, None)
                continue
            assert actual is not None, f"part {number} of {upload_id} holds {part.etag}, not what was sent"
            assert part.size == len(actual.data), f"part {number} of {upload_id}: {part.size} bytes listed"
            upload.parts[number] = actual
            found["parts"] += 1
            found["part_bytes"] += part.size


def run_clients(clients: Iterable[Client], stop: threading.Event, **options: str) -> list[threading.Thread]:
    threads = [threading.Thread(target=c.run, args=(stop,), kwargs=options, daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    return threads


def stop_clients(clients: list[Client], threads: list[threading.Thread], stop: threading.Event) -> list[Failure]:
    """End the load; every client must stop within a minute. Returns the failed requests."""
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a client hung"
    return [f for c in clients for f in c.failures]


def verify_clients(server: TesseraServer, bucket: oss2.Bucket, clients: list[Client]) -> tuple[int, int]:
    """Every client's model against the server, GetBucketStat against the listings, and the
    storage consistent (see tests/support/checks.py). Returns (blob files, their bytes)."""
    found: Counter = Counter()
    for client in clients:
        found.update(client.verify(bucket))
    assert_bucket_stat(server, bucket.bucket_name, found)
    return assert_consistent(server)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
