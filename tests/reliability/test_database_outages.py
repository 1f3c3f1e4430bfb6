"""The metadata database goes away under three gateways writing through a shared directory:

- its server restarts — a fast shutdown (clients disconnected, a checkpoint written), and a
  crash (``immediate``: recovery from the WAL when it starts again);
- its primary stops answering (frozen: connections open, no answers), is fenced off (SIGKILL of
  every server process) and the synchronous standby is promoted; the gateways name both servers
  (``host=…&host=…&target_session_attrs=primary``) and bound their waits (``timeout=``,
  ``command_timeout=``).

While it lasts, every request answers 200 or 503 ServiceUnavailable — never another 5xx, a
dropped connection or a hang. Afterwards the gateways serve again by themselves (each replaces
its pool of dead connections), every acknowledged write reads back, a write answered 503 is
either whole or absent, the gateways' background loops are still running, and ``tessera admin
fsck`` is clean. The database is ``synchronous_commit = on``: an acknowledged commit is in the
WAL (and, with a standby, on the standby) before the gateway answers.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

import oss2
import pytest

from tests.reliability.knobs import knob
from tests.support.checks import assert_consistent
from tests.support.gateways import GATEWAYS, Gateways
from tests.support.postgres import PostgresCluster

OUTAGES = knob("DATABASE_OUTAGES", ci=2, long=20)  # restarts (or failovers) per test
DOWN_SECONDS = 0.5  # how long the database stays away, beyond its own stop and start
WAIT_SECONDS = 2  # the failover gateways' timeout= and command_timeout=
FROZEN_SECONDS = 3 * WAIT_SECONDS + 1  # longer than any wait a request may have
POOLED_CONNECTIONS = 12  # at most, per gateway (tessera.meta.database: pool_size 8, max_overflow 4)
PART = 100 * 1024
# Commits durable against a crash of the server's processes (not of the machine: no fsync).
COMMITS_SURVIVE_CRASHES = {"synchronous_commit": "on"}
_databases = itertools.count()


class Writers:
    """Two writers per gateway, until stopped: PutObjects, and every fourth write a multipart
    upload of two parts. What each write was answered, and which keys must (acknowledged) or
    may (answered 503) exist afterwards."""

    def __init__(self, gateways: Gateways, bucket: str) -> None:
        self.gateways, self.name = gateways, bucket
        self.acknowledged: dict[str, bytes] = {}
        self.uncertain: dict[str, bytes] = {}
        self.answers: Counter[str] = Counter()
        self.slowest_error = 0.0  # seconds, of an answer other than 200
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(GATEWAYS * 2)
        self._running: list[concurrent.futures.Future[None]] = []

    def __enter__(self) -> "Writers":
        self._running = [self._pool.submit(self._write, n) for n in range(GATEWAYS * 2)]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for running in self._running:
            running.result(timeout=120)
        self._pool.shutdown()

    def served(self) -> int:
        return self.answers["200"]

    def wait_for_writes(self, count: int, timeout: float = 60) -> None:
        """Until ``count`` more writes were acknowledged."""
        goal, deadline = self.served() + count, time.monotonic() + timeout
        while self.served() < goal:
            assert time.monotonic() < deadline, f"no {count} writes served in {timeout} s: {self.answers}"
            for running in self._running:
                if running.done():
                    running.result()  # a writer that failed says why
            time.sleep(0.02)

    def _write(self, n: int) -> None:
        bucket = self.gateways.bucket(n, self.name)
        for i in itertools.count():
            if self._stop.is_set():
                return
            key = f"w{n}-{i}"
            if i % 4 == 3:
                body = os.urandom(PART) + os.urandom(i % 1000)
                self._answer(key, body, lambda: self._multipart(bucket, key, body))
            else:
                body = os.urandom(256 + i % 512)
                self._answer(key, body, lambda: bucket.put_object(key, body))

    def _answer(self, key: str, body: bytes, write: Callable[[], object]) -> None:
        started = time.monotonic()
        try:
            write()
        except oss2.exceptions.OssError as error:
            self.slowest_error = max(self.slowest_error, time.monotonic() - started)
            self.answers[f"{error.status} {error.code}"] += 1
            if error.status == 503:
                self.uncertain[key] = body
            return
        self.acknowledged[key] = body
        self.answers["200"] += 1

    @staticmethod
    def _multipart(bucket: oss2.Bucket, key: str, body: bytes) -> None:
        """Initiate, two parts, Complete: only Complete's answer says whether ``key`` exists.
        An earlier step answered 503 leaves an upload behind, as a client that gave up would."""
        upload = bucket.init_multipart_upload(key).upload_id
        parts = [oss2.models.PartInfo(n + 1, bucket.upload_part(key, upload, n + 1, piece).etag)
                 for n, piece in enumerate((body[:PART], body[PART:]))]
        bucket.complete_multipart_upload(key, upload, parts)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[PostgresCluster]:
    with PostgresCluster(settings=COMMITS_SURVIVE_CRASHES) as cluster:
        yield cluster


def start_gateways(root: Path, metadata_url: str, database: str) -> Gateways:
    gateways = Gateways(root, database, metadata_url, f"file://{root / 'shared-blobs'}")
    gateways.start_together()
    return gateways


def assert_recovered_and_nothing_lost(gateways: Gateways, writers: Writers, summary: Callable[[str], None],
                                      what: str) -> None:
    """Only 200s and 503s; every gateway serves again, on every pooled connection; every
    acknowledged write reads back whole, a write answered 503 is whole or absent; fsck clean."""
    assert set(writers.answers) <= {"200", "503 ServiceUnavailable"}, writers.answers
    assert writers.answers["503 ServiceUnavailable"], f"no request met the outage: {writers.answers}"
    for n, server in enumerate(gateways.servers):
        assert server.process is not None and server.process.poll() is None, f"gateway {n} exited"
        bucket = gateways.bucket(n, writers.name)
        deadline = time.monotonic() + 30
        while True:
            try:
                bucket.put_object(f"after-{n}", b"after")
                break
            except oss2.exceptions.OssError as error:
                assert (error.status, error.code) == (503, "ServiceUnavailable"), error
                assert time.monotonic() < deadline, f"gateway {n} still answers 503 30 s after the outage"
                time.sleep(0.2)
        for _ in range(3 * POOLED_CONNECTIONS):
            assert bucket.get_object(f"after-{n}").read() == b"after"
    for key, body in writers.acknowledged.items():
        assert gateways.bucket(hash(key), writers.name).get_object(key).read() == body, key
    committed_anyway = 0
    for key, body in writers.uncertain.items():
        try:
            found = gateways.bucket(hash(key), writers.name).get_object(key).read()
        except oss2.exceptions.NoSuchKey:
            continue
        assert found == body, f"{key}: answered 503, and readable with other bytes"
        committed_anyway += 1
    assert_consistent(gateways.servers[0])
    summary(f"{what}: answers " + ", ".join(f"{k} {v}" for k, v in sorted(writers.answers.items()))
            + f"; {committed_anyway} of {len(writers.uncertain)} writes answered 503 were committed"
            + f"; slowest 503 {writers.slowest_error:.1f} s")


@pytest.mark.parametrize("how", ["fast", "immediate"])
def test_a_restarted_database_server_gives_clean_errors_and_the_gateways_recover(
        how: str, primary: PostgresCluster, tmp_path: Path, summary: Callable[[str], None]) -> None:
    database = f"restarted_{next(_databases)}"
    gateways = start_gateways(tmp_path, primary.create_database(database), database)
    try:
        gateways.bucket(0, "restarted").create_bucket()
        with Writers(gateways, "restarted") as writers:
            for _ in range(OUTAGES):
                writers.wait_for_writes(30)
                primary.shut_down(how)
                time.sleep(DOWN_SECONDS)
                primary.launch()
            writers.wait_for_writes(30)
        assert_recovered_and_nothing_lost(gateways, writers, summary, f"{OUTAGES} restarts ({how})")
    finally:
        gateways.stop()


def test_failover_to_a_synchronous_standby_loses_nothing_acknowledged(
        primary: PostgresCluster, tmp_path: Path, summary: Callable[[str], None]) -> None:
    """The gateways name both servers and want the one that accepts writes; the standby confirms
    each commit before the primary acknowledges it. The primary stops answering: the gateways'
    requests end in 503 within their URL's waits (a statement ``command_timeout``, a new
    connection ``timeout``), not in a hang. It is fenced off (every server process SIGKILLed),
    the standby promoted, and a new standby of the new primary takes the old one's place —
    ``OUTAGES`` times, back and forth between two ports."""
    database = f"failover_{next(_databases)}"
    primary.create_database(database)
    standby = primary.standby()
    try:
        primary.make_standbys_synchronous()
        servers = [primary, standby]
        hosts = "&".join(f"host=127.0.0.1:{cluster.port}" for cluster in servers)
        url = (f"postgresql+asyncpg://{primary.user}@/{database}?{hosts}&target_session_attrs=primary"
               f"&timeout={WAIT_SECONDS}&command_timeout={WAIT_SECONDS}")
        gateways = start_gateways(tmp_path, url, database)
        try:
            gateways.bucket(0, "failover").create_bucket()
            with Writers(gateways, "failover") as writers:
                for _ in range(OUTAGES):
                    writers.wait_for_writes(30)
                    old, new = servers
                    old.freeze()
                    time.sleep(FROZEN_SECONDS)
                    old.shut_down("kill")
                    new.promote()
                    # The dead primary's machine comes back as a standby of the new one, on its port.
                    old.stop()
                    replacement = new.standby(port=old.port)
                    servers = [new, replacement]
                    new.make_standbys_synchronous()
                writers.wait_for_writes(30)
            # A request may meet both waits: a statement's on a pooled connection, then a new connection's.
            assert writers.slowest_error < 2 * WAIT_SECONDS + 1, writers.slowest_error
            assert_recovered_and_nothing_lost(gateways, writers, summary, f"{OUTAGES} failovers")
        finally:
            gateways.stop()
    finally:
        for cluster in servers:
            if cluster is not primary:
                cluster.stop()
