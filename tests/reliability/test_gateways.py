"""Three gateways over one PostgreSQL and one blob backend — a shared directory (``file://``),
then a SeaweedFS bucket (``s3://``): any request may go to any gateway, and the races between
them are decided by the database alone (docs/scale-out.md).

- Gateways started at the same moment on a new database all come up (migrations and the root
  key are made once).
- One upload completed through two gateways at once: one object, both answers the same ETag,
  and a retried Complete answers it again.
- Complete, Abort and a late part on three gateways: exactly one of Complete and Abort wins; a
  completed object reads back through every gateway, an aborted one is gone from all of them.
- A part re-sent through another gateway while Complete runs: the object is the parts Complete
  named, or Complete is refused — never the re-sent bytes under the old ETag.
- 32 PutObjects with x-oss-forbid-overwrite on one key over the gateways: exactly one succeeds;
  32 PutBuckets of one name: one 200, the rest 409 BucketAlreadyExists; PutBucketLifecycle,
  PutBucketCors and console rule edits at once: no 500, no edit lost.
- What one gateway wrote, the others read and list at once; DeleteBucket racing PutObject never
  leaves an object in a deleted bucket.
- Every database connection terminated, again and again, under load: 200 or 503, and the
  gateways recover by themselves.
- A gateway SIGKILLed while it receives a part and runs a Complete: nothing acknowledged lost.
- Lifecycle runs on all three gateways at once: each upload aborted once, nothing live freed.
- Collectors of all three at once: each unowned blob freed once, every object still whole.
- A Hypothesis state machine of random operations on random gateways, against a model of OSS.

After each: ``tessera admin fsck`` is clean, nothing unreferenced is left.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Callable, Iterator

import oss2
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule, run_state_machine_as_test
from oss2.models import AbortMultipartUpload, BucketCors, BucketLifecycle, CorsRule, LifecycleRule, PartInfo

from tests.reliability.knobs import knob
from tests.support import raw
from tests.support.checks import assert_consistent
from tests.support.clients import Clients, oss_error
from tests.support.console import ConsoleApi
from tests.support.gateways import GATEWAYS, Gateways
from tests.support.postgres import PostgresCluster
from tests.support.seaweedfs import SeaweedFS

PART = 100 * 1024
ROUNDS = knob("GATEWAY_ROUNDS", ci=10, long=200)
KILLS = knob("CONNECTION_KILLS", ci=10, long=200)
POOLED_CONNECTIONS = 12  # at most, per gateway (tessera.meta.database: pool_size 8, max_overflow 4)
GATEWAY_CRASHES = knob("GATEWAY_CRASHES", ci=4, long=50)
SWEEP_SECONDS = knob("GATEWAY_SWEEP_SECONDS", ci=5, long=120)
_databases = itertools.count()


@pytest.fixture(scope="module", params=["file", "s3"])
def gateways(request: pytest.FixtureRequest, postgres_cluster: PostgresCluster,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateways]:
    """Three gateways on ``file://`` (one shared directory) or on ``s3://`` (one SeaweedFS bucket)."""
    root = tmp_path_factory.mktemp(f"gateways-{request.param}")
    database = f"gateways_{next(_databases)}"
    with contextlib.ExitStack() as stack:
        if request.param == "s3":
            store = stack.enter_context(SeaweedFS())
            store.create_bucket("gateways")
            blobs_url, env = f"s3://gateways/shared?endpoint={store.endpoint}&timeout=5", store.env()
        else:
            blobs_url, env = f"file://{root / 'shared-blobs'}", None
        group = Gateways(root, database, postgres_cluster.create_database(database), blobs_url, env)
        group.store = store if request.param == "s3" else None
        stack.callback(group.stop)
        group.start_together()
        yield group


def failed(result: object) -> bool:
    return isinstance(result, oss2.exceptions.OssError)


def all_at_once(*calls: Callable[[], object], stagger: float = 0.0) -> list[object]:
    """Run the calls in threads released together, each after a random delay of up to
    ``stagger`` seconds (so that over the rounds each side of a race gets to go first); their
    results (or OSS errors), in order."""
    start = threading.Barrier(len(calls))
    delays = [random.uniform(0, stagger) for _ in calls]

    def released(call: Callable[[], object], delay: float) -> object:
        start.wait()
        time.sleep(delay)
        return oss_error(call)

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(released, c, d) for c, d in zip(calls, delays)]]


def new_bucket(gateways: Gateways, name: str) -> oss2.Bucket:
    bucket = gateways.bucket(0, name)
    bucket.create_bucket()
    return bucket


def test_gateways_started_together_share_one_schema_and_one_key(gateways: Gateways) -> None:
    """The fixture started every gateway at once on a new database and waited until each was
    healthy; the key of OSS_ACCESS_KEY_ID was added once, as the root key."""
    server = gateways.servers[0]
    done = subprocess.run([sys.executable, "-m", "tessera", "keys", "list", "--data-dir", str(server.data_dir),
                           "--metadata-url", str(server.metadata_url)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{server.access_key_id}  (root)"]
    new_bucket(gateways, "started")
    assert [gateways.bucket(g, "started").get_bucket_info().name for g in range(GATEWAYS)] == ["started"] * GATEWAYS


def test_one_upload_completed_through_two_gateways_at_once_is_one_object(gateways: Gateways) -> None:
    bucket = new_bucket(gateways, "two-completes")
    for round_ in range(ROUNDS):
        key = f"twice-{round_}"
        upload_id = bucket.init_multipart_upload(key).upload_id
        parts = [PartInfo(n, gateways.bucket(n, bucket.bucket_name).upload_part(key, upload_id, n, os.urandom(PART)).etag)
                 for n in (1, 2)]
        answers = all_at_once(*(lambda g=g: gateways.bucket(g, bucket.bucket_name).complete_multipart_upload(
            key, upload_id, parts).etag for g in (1, 2)))
        assert not any(failed(a) for a in answers), answers
        etag = gateways.bucket(0, bucket.bucket_name).head_object(key).etag
        assert set(answers) == {etag}
        retried = gateways.bucket(round_, bucket.bucket_name).complete_multipart_upload(key, upload_id, parts)
        assert retried.etag == etag
    assert [o.key for o in oss2.ObjectIterator(bucket)] == sorted(f"twice-{r}" for r in range(ROUNDS))
    assert_consistent(gateways.servers[0])


def test_complete_abort_and_a_late_part_on_three_gateways(gateways: Gateways, summary: Callable[[str], None]) -> None:
    bucket = new_bucket(gateways, "complete-abort")
    won: dict[str, int] = {}
    for round_ in range(ROUNDS):
        key = f"upload-{round_}"
        upload_id = bucket.init_multipart_upload(key).upload_id
        first = os.urandom(PART)
        etag = gateways.bucket(round_ + 1, bucket.bucket_name).upload_part(key, upload_id, 1, first).etag
        name = bucket.bucket_name
        completed, aborted, late = all_at_once(
            lambda: gateways.bucket(round_, name).complete_multipart_upload(key, upload_id, [PartInfo(1, etag)]),
            lambda: gateways.bucket(round_ + 1, name).abort_multipart_upload(key, upload_id),
            lambda: gateways.bucket(round_ + 2, name).upload_part(key, upload_id, 2, os.urandom(PART)),
            stagger=0.01)
        winners = [w for w, result in (("complete", completed), ("abort", aborted)) if not failed(result)]
        assert len(winners) == 1, (completed, aborted)
        for result in (completed, aborted, late):
            assert not failed(result) or result.code == "NoSuchUpload", result
        for g in range(GATEWAYS):
            reader = gateways.bucket(g, name)
            listed = [o.key for o in oss2.ObjectIterator(reader, prefix=key) if o.key == key]
            if winners == ["complete"]:
                assert listed == [key] and reader.get_object(key).read() == first
            else:
                assert listed == []
                with pytest.raises(oss2.exceptions.NoSuchKey):
                    reader.get_object(key)
            with pytest.raises(oss2.exceptions.NoSuchUpload):
                reader.list_parts(key, upload_id)
        outcome = winners[0] + ("" if failed(late) else "+part")
        won[outcome] = won.get(outcome, 0) + 1
    assert_consistent(gateways.servers[0])
    summary(f"{ROUNDS} rounds: " + ", ".join(f"{k} {v}" for k, v in sorted(won.items())))


def test_a_part_re_sent_through_another_gateway_while_complete_runs(gateways: Gateways,
                                                                   summary: Callable[[str], None]) -> None:
    bucket = new_bucket(gateways, "re-sent-part")
    name = bucket.bucket_name
    outcomes: dict[str, int] = {}
    for round_ in range(ROUNDS):
        key = f"re-sent-{round_}"
        upload_id = bucket.init_multipart_upload(key).upload_id
        first, second, again = os.urandom(PART), os.urandom(PART), os.urandom(PART)
        parts = [PartInfo(1, gateways.bucket(1, name).upload_part(key, upload_id, 1, first).etag),
                 PartInfo(2, gateways.bucket(2, name).upload_part(key, upload_id, 2, second).etag)]
        completed, re_sent = all_at_once(
            lambda: gateways.bucket(0, name).complete_multipart_upload(key, upload_id, parts),
            lambda: gateways.bucket(1, name).upload_part(key, upload_id, 2, again), stagger=0.01)
        if failed(completed):
            # The re-sent part replaced part 2 first: its ETag is no longer the one Complete named.
            assert completed.code == "InvalidPart" and not failed(re_sent), (completed, re_sent)
            bucket.abort_multipart_upload(key, upload_id)
            outcomes["re-sent first"] = outcomes.get("re-sent first", 0) + 1
            continue
        assert not failed(re_sent) or re_sent.code == "NoSuchUpload", re_sent
        for g in range(GATEWAYS):
            assert gateways.bucket(g, name).get_object(key).read() == first + second
        outcomes["completed first"] = outcomes.get("completed first", 0) + 1
    assert_consistent(gateways.servers[0])
    summary(f"{ROUNDS} rounds: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def test_forbid_overwrite_puts_over_the_gateways_have_one_winner(gateways: Gateways) -> None:
    bucket = new_bucket(gateways, "forbid-overwrite")
    name = bucket.bucket_name
    for round_ in range(max(1, ROUNDS // 3)):
        key = f"contested-{round_}"
        bodies = [os.urandom(1024) for _ in range(32)]
        answers = all_at_once(*(lambda n=n: gateways.bucket(n, name).put_object(
            key, bodies[n], headers={"x-oss-forbid-overwrite": "true"}) for n in range(32)))
        winners = [n for n, answer in enumerate(answers) if not failed(answer)]
        assert len(winners) == 1, answers
        assert {a.code for a in answers if failed(a)} == {"FileAlreadyExists"}
        for g in range(GATEWAYS):
            assert gateways.bucket(g, name).get_object(key).read() == bodies[winners[0]]
    assert_consistent(gateways.servers[0])


def test_what_one_gateway_writes_the_others_read_and_list_at_once(gateways: Gateways) -> None:
    bucket = new_bucket(gateways, "read-after-write")
    name = bucket.bucket_name
    for n in range(ROUNDS * 5):
        key = f"key-{n:04d}"
        body = os.urandom(512 + n)
        gateways.bucket(n, name).put_object(key, body)
        assert gateways.bucket(n + 1, name).get_object(key).read() == body
        assert key in [o.key for o in oss2.ObjectIterator(gateways.bucket(n + 2, name), prefix=key)]
        gateways.bucket(n + 1, name).put_object(key, body[::-1])  # an overwrite elsewhere ...
        assert gateways.bucket(n + 2, name).get_object(key).read() == body[::-1]  # ... read at once
        if n % 2:
            gateways.bucket(n + 2, name).delete_object(key)
            assert not gateways.bucket(n, name).object_exists(key)
    assert_consistent(gateways.servers[0])


def test_delete_bucket_racing_put_object_never_leaves_an_object_behind(gateways: Gateways,
                                                                      summary: Callable[[str], None]) -> None:
    outcomes: dict[str, int] = {}
    for round_ in range(ROUNDS * 2):
        name = f"deleted-while-written-{round_}"
        new_bucket(gateways, name)
        gateways.bucket(1, name).get_bucket_info()  # every gateway has seen the bucket (and may remember it)
        gateways.bucket(2, name).get_bucket_info()
        deleted, put = all_at_once(lambda: gateways.bucket(round_, name).delete_bucket(),
                                   lambda: gateways.bucket(round_ + 1, name).put_object("k", b"body"), stagger=0.01)
        if not failed(deleted):
            assert failed(put) and put.code == "NoSuchBucket", put
            for g in range(GATEWAYS):
                with pytest.raises(oss2.exceptions.NoSuchBucket):
                    gateways.bucket(g, name).get_object("k")
            outcomes["deleted"] = outcomes.get("deleted", 0) + 1
        else:
            assert deleted.code == "BucketNotEmpty" and not failed(put), (deleted, put)
            for g in range(GATEWAYS):
                assert gateways.bucket(g, name).get_object("k").read() == b"body"
            outcomes["written"] = outcomes.get("written", 0) + 1
    assert_consistent(gateways.servers[0])
    summary(f"{ROUNDS * 2} rounds: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def test_database_connections_killed_mid_transaction_give_clean_errors_and_recover(
        gateways: Gateways, postgres_cluster: PostgresCluster, summary: Callable[[str], None]) -> None:
    """``pg_terminate_backend`` of every gateway connection, again and again, under PUTs through
    all gateways: each PUT answers 200 or 503 ServiceUnavailable (never another 5xx, a dropped
    connection or a hang), each 200 reads back, and once the kills stop every gateway serves
    again by itself."""
    name = new_bucket(gateways, "connections-killed").bucket_name
    stop = threading.Event()
    acknowledged: dict[str, bytes] = {}
    answers: Counter[str] = Counter()

    def writer(n: int) -> None:
        bucket = gateways.bucket(n, name)
        for i in itertools.count():
            if stop.is_set():
                return
            key, body = f"w{n}-{i}", os.urandom(256 + i % 512)
            try:
                bucket.put_object(key, body)
            except oss2.exceptions.OssError as error:
                answers[f"{error.status} {error.code}"] += 1
                continue
            acknowledged[key] = body
            answers["200"] += 1

    kills = 0
    with concurrent.futures.ThreadPoolExecutor(GATEWAYS * 2) as pool:
        writers = [pool.submit(writer, n) for n in range(GATEWAYS * 2)]
        try:
            for _ in range(KILLS):
                time.sleep(random.uniform(0.05, 0.3))
                kills += int(postgres_cluster.sql(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    f"WHERE datname = '{gateways.database}' AND pid <> pg_backend_pid()"))
        finally:
            stop.set()
        for done in writers:
            done.result(timeout=60)
    assert set(answers) <= {"200", "503 ServiceUnavailable"}, answers
    def recovered() -> None:
        """At most the first request after the kills meets a dead connection (and the gateway
        then replaces its whole pool); every one after that is served."""
        for n in range(GATEWAYS):
            try:
                gateways.bucket(n, name).put_object(f"after-{n}", b"after")
            except oss2.exceptions.OssError as first:
                assert (first.status, first.code) == (503, "ServiceUnavailable"), first
                gateways.bucket(n, name).put_object(f"after-{n}", b"after")
            for _ in range(3 * POOLED_CONNECTIONS):
                assert gateways.bucket(n, name).get_object(f"after-{n}").read() == b"after"

    recovered()
    # Once more with every gateway idle: all their pooled connections die at once, unused.
    kills += int(postgres_cluster.sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        f"WHERE datname = '{gateways.database}' AND pid <> pg_backend_pid()"))
    time.sleep(0.2)
    recovered()
    for key, body in acknowledged.items():
        assert gateways.bucket(hash(key), name).get_object(key).read() == body
    assert_consistent(gateways.servers[0])
    summary(f"{KILLS} rounds killed {kills} connections; answers: "
            + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())))


def test_a_gateway_killed_mid_part_and_mid_complete_loses_nothing_acknowledged(
        gateways: Gateways, summary: Callable[[str], None]) -> None:
    """SIGKILL of one gateway while it receives a part and runs a Complete of the same upload.
    Through another gateway then: the upload is either completed (a retried Complete answers
    its ETag) or still whole and completes now; the object is exactly the acknowledged parts;
    the half-received part left nothing; fsck is clean."""
    name = new_bucket(gateways, "killed-gateway").bucket_name
    victim = gateways.servers[1]
    survivor = gateways.bucket(0, name)
    outcomes: Counter[str] = Counter()
    for round_ in range(GATEWAY_CRASHES):
        key = f"upload-{round_}"
        upload_id = survivor.init_multipart_upload(key).upload_id
        bodies = {n: os.urandom(PART) for n in range(1, 41)}
        parts = [PartInfo(n, gateways.bucket(n, name).upload_part(key, upload_id, n, body).etag)
                 for n, body in bodies.items()]
        # A part the victim is receiving when it dies: half of its body sent.
        receiving = raw.start_request(victim, "PUT", name, key, declared=PART,
                                      query={"partNumber": "41", "uploadId": upload_id})
        receiving.sendall(os.urandom(PART // 2))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            completing = pool.submit(oss_error, lambda: gateways.bucket(1, name).complete_multipart_upload(
                key, upload_id, parts))
            time.sleep(random.uniform(0, 0.03))
            victim.kill()
            answered = completing.result(timeout=60)
        receiving.close()
        try:
            survivor.list_parts(key, upload_id)
            outcomes["killed before Complete committed"] += 1
        except oss2.exceptions.NoSuchUpload:
            outcomes["Complete committed, then killed"] += 1
        etag = survivor.complete_multipart_upload(key, upload_id, parts).etag  # retried, or the first
        if not failed(answered) and not isinstance(answered, oss2.exceptions.RequestError):
            assert answered.etag == etag
        assert survivor.get_object(key).read() == b"".join(bodies.values())
        victim.start()
        assert gateways.bucket(1, name).head_object(key).etag == etag
    assert_consistent(gateways.servers[0])
    summary(f"{GATEWAY_CRASHES} kills: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def test_lifecycle_runs_on_every_gateway_abort_each_upload_once_and_free_nothing_live(
        gateways: Gateways, summary: Callable[[str], None]) -> None:
    """All three gateways run the rules every second (one at a time, by the lease in the
    database) while uploads are initiated, sent parts and completed through all of them. Each
    upload is completed or aborted, once: the runs' logs count every aborted upload exactly
    once, every completed object and every plain PUT reads back, fsck is clean."""
    bucket = new_bucket(gateways, "swept")
    name = bucket.bucket_name
    bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule(
        "sweep", "", status=LifecycleRule.ENABLED,
        abort_multipart_upload=AbortMultipartUpload(created_before_date=datetime.date.today() + datetime.timedelta(days=1)))]))
    kept: dict[str, bytes] = {}
    uploads: set[str] = set()
    completed: set[str] = set()
    deadline = time.monotonic() + SWEEP_SECONDS
    for n in itertools.count():
        if time.monotonic() > deadline:
            break
        key = f"upload-{n}"
        gateway = gateways.bucket(n, name)
        upload_id = gateway.init_multipart_upload(key).upload_id
        uploads.add(upload_id)
        body = os.urandom(PART // 4)
        sent = oss_error(lambda: gateways.bucket(n + 1, name).upload_part(key, upload_id, 1, body))
        if n % 3 == 0 and not failed(sent):
            done = oss_error(lambda: gateways.bucket(n + 2, name).complete_multipart_upload(
                key, upload_id, [PartInfo(1, sent.etag)]))
            if not failed(done):
                completed.add(upload_id)
                kept[key] = body
            else:
                assert done.code == "NoSuchUpload", done
        else:
            assert not failed(sent) or sent.code == "NoSuchUpload", sent
        gateway.put_object(f"plain-{n}", body)
        kept[f"plain-{n}"] = body
    waited = time.monotonic() + 30
    while list(oss2.MultipartUploadIterator(bucket)) and time.monotonic() < waited:
        time.sleep(0.2)
    assert list(oss2.MultipartUploadIterator(bucket)) == []
    time.sleep(1.5)  # a run that started before the last upload went has finished and logged
    runs = json.loads(gateways.servers[0].admin("lifecycle", "log", "--json", "--limit", "100000").stdout)
    aborted = sum(outcome["matched"] for run in runs if not run["dry_run"] for outcome in run["outcomes"]
                  if outcome["bucket"] == name and outcome["action"] == "AbortMultipartUpload")
    assert aborted == len(uploads - completed), (aborted, len(uploads), len(completed))
    for key, body in kept.items():
        assert gateways.bucket(hash(key), name).get_object(key).read() == body
    assert_consistent(gateways.servers[0])
    sweeping = sum(1 for run in runs if any(o["bucket"] == name and o["matched"] for o in run["outcomes"]))
    summary(f"{len(uploads)} uploads in {SWEEP_SECONDS} s: {len(completed)} completed, {aborted} aborted by "
            f"{sweeping} runs")


MODEL_EXAMPLES = knob("GATEWAY_MODEL_EXAMPLES", ci=12, long=300)
KEYS = st.sampled_from(["a", "b", "dir/c"])


CONSOLE_EDITORS = 8


PUTS_AT_ONCE = 32


def test_put_bucket_of_one_name_through_every_gateway_at_once_creates_it_once(gateways: Gateways) -> None:
    for round_ in range(max(1, ROUNDS // 5)):
        name = f"created-once-{round_}"
        answers = all_at_once(*(lambda n=n: gateways.bucket(n, name).create_bucket().status
                                for n in range(PUTS_AT_ONCE)), stagger=0.01)
        assert answers.count(200) == 1, answers
        assert all(a == 200 or (a.status, a.code) == (409, "BucketAlreadyExists") for a in answers), answers
        service = Clients(gateways.servers[round_ % GATEWAYS]).oss2_service()
        assert [b.name for b in oss2.BucketIterator(service) if b.name == name] == [name]


def test_put_bucket_cors_through_every_gateway_at_once_stores_one_of_them(gateways: Gateways) -> None:
    """As for lifecycle: a duplicate key (500) before the configuration was stored in one upsert."""
    for round_ in range(max(1, ROUNDS // 5)):
        name = new_bucket(gateways, f"cors-puts-{round_}").bucket_name
        answers = all_at_once(*(lambda n=n: gateways.bucket(n, name).put_bucket_cors(BucketCors([CorsRule(
            allowed_origins=[f"https://app-{n}.example"], allowed_methods=["GET"])])).status
            for n in range(CONSOLE_EDITORS)), stagger=0.01)
        assert answers == [200] * CONSOLE_EDITORS, answers
        [rule] = gateways.bucket(round_, name).get_bucket_cors().rules
        assert rule.allowed_origins[0] in {f"https://app-{n}.example" for n in range(CONSOLE_EDITORS)}


def test_put_bucket_lifecycle_through_every_gateway_at_once_stores_one_of_them(gateways: Gateways) -> None:
    """Whole configurations replaced at the same moment (two deploy scripts): each answer is
    200 and the bucket ends with exactly one of them (before: a duplicate key, answered 500)."""
    for round_ in range(max(1, ROUNDS // 5)):
        name = new_bucket(gateways, f"lifecycle-puts-{round_}").bucket_name
        configs = [BucketLifecycle([LifecycleRule(f"put-{n}", f"p{n}/", status=LifecycleRule.ENABLED,
                                                  abort_multipart_upload=AbortMultipartUpload(days=n + 1))])
                   for n in range(CONSOLE_EDITORS)]
        answers = all_at_once(*(lambda n=n: gateways.bucket(n, name).put_bucket_lifecycle(configs[n]).status
                                for n in range(CONSOLE_EDITORS)), stagger=0.01)
        assert answers == [200] * CONSOLE_EDITORS, answers
        [rule] = gateways.bucket(round_, name).get_bucket_lifecycle().rules
        assert rule.id in {f"put-{n}" for n in range(CONSOLE_EDITORS)}


def test_console_rule_edits_through_every_gateway_at_once_all_take_effect(gateways: Gateways) -> None:
    """A console edit reads the bucket's rules, changes one and saves them all: edits made at
    the same moment through different gateways must not save over one another."""
    editors = [ConsoleApi(gateways.servers[n % GATEWAYS]) for n in range(CONSOLE_EDITORS)]
    for editor in editors:
        editor.sign_in()
    for round_ in range(max(1, ROUNDS // 5)):
        name = new_bucket(gateways, f"console-rules-{round_}").bucket_name
        rules = f"/api/buckets/{name}/lifecycle/rules"
        added = all_at_once(*(lambda n=n: editors[n].post(rules, json={"rule": {
            "id": f"rule-{n}", "prefix": f"p{n}/", "abort_multipart_upload": {"days": n + 1}}}).status_code
            for n in range(CONSOLE_EDITORS)), stagger=0.01)
        assert added == [201] * CONSOLE_EDITORS
        saved = gateways.bucket(round_ + 1, name).get_bucket_lifecycle().rules
        assert sorted(r.id for r in saved) == sorted(f"rule-{n}" for n in range(CONSOLE_EDITORS))
        changed = all_at_once(*(lambda n=n: (editors[n].post(f"{rules}/rule-{n}/disable") if n % 2 == 0
                                             else editors[n].delete(f"{rules}/rule-{n}")).status_code
                                for n in range(CONSOLE_EDITORS)), stagger=0.01)
        assert changed == [200] * CONSOLE_EDITORS
        saved = gateways.bucket(round_ + 2, name).get_bucket_lifecycle().rules
        assert sorted((r.id, r.status) for r in saved) == sorted(
            (f"rule-{n}", "Disabled") for n in range(0, CONSOLE_EDITORS, 2))


def test_random_operations_on_random_gateways_match_a_model_of_oss(gateways: Gateways) -> None:
    """A Hypothesis state machine: each step sends one operation (PutObject, with or without
    x-oss-forbid-overwrite, GetObject, DeleteObject, ListObjects, Initiate, UploadPart,
    Complete, Abort, ListParts) to a random gateway and compares the answer with a dictionary
    model of OSS's semantics."""
    names = itertools.count()

    class Model(RuleBasedStateMachine):
        uploads = Bundle("uploads")

        def __init__(self) -> None:
            super().__init__()
            self.name = f"model-{os.getpid()}-{next(names)}"
            gateways.bucket(0, self.name).create_bucket()
            self.objects: dict[str, bytes] = {}
            self.open: dict[str, tuple[str, dict[int, tuple[str, bytes]]]] = {}  # upload → (key, parts)

        def via(self, gateway: int) -> oss2.Bucket:
            return gateways.bucket(gateway, self.name)

        @rule(gateway=st.integers(0, GATEWAYS - 1), key=KEYS, seed=st.integers(0, 255),
              size=st.integers(0, 3000), forbid=st.booleans())
        def put(self, gateway: int, key: str, seed: int, size: int, forbid: bool) -> None:
            body = bytes([seed]) * size
            headers = {"x-oss-forbid-overwrite": "true"} if forbid else {}
            answer = oss_error(lambda: self.via(gateway).put_object(key, body, headers=headers))
            if forbid and key in self.objects:
                assert failed(answer) and answer.code == "FileAlreadyExists", answer
                return
            assert not failed(answer), answer
            self.objects[key] = body

        @rule(gateway=st.integers(0, GATEWAYS - 1), key=KEYS)
        def get(self, gateway: int, key: str) -> None:
            answer = oss_error(lambda: self.via(gateway).get_object(key).read())
            if key in self.objects:
                assert answer == self.objects[key]
            else:
                assert failed(answer) and answer.code == "NoSuchKey", answer

        @rule(gateway=st.integers(0, GATEWAYS - 1), key=KEYS)
        def delete(self, gateway: int, key: str) -> None:
            self.via(gateway).delete_object(key)  # 204 whether or not it existed
            self.objects.pop(key, None)

        @rule(gateway=st.integers(0, GATEWAYS - 1))
        def list_objects(self, gateway: int) -> None:
            listed = {o.key: o.size for o in oss2.ObjectIterator(self.via(gateway))}
            assert listed == {k: len(v) for k, v in self.objects.items()}

        @rule(target=uploads, gateway=st.integers(0, GATEWAYS - 1), key=KEYS)
        def initiate(self, gateway: int, key: str) -> str:
            upload_id = self.via(gateway).init_multipart_upload(key).upload_id
            self.open[upload_id] = (key, {})
            return upload_id

        @rule(upload_id=uploads, gateway=st.integers(0, GATEWAYS - 1), number=st.integers(1, 3),
              seed=st.integers(0, 255))
        def upload_part(self, upload_id: str, gateway: int, number: int, seed: int) -> None:
            key = self.open[upload_id][0] if upload_id in self.open else "a"
            body = bytes([seed]) * PART
            answer = oss_error(lambda: self.via(gateway).upload_part(key, upload_id, number, body))
            if upload_id not in self.open:
                assert failed(answer) and answer.code == "NoSuchUpload", answer
                return
            assert not failed(answer), answer
            self.open[upload_id][1][number] = (answer.etag, body)

        @rule(upload_id=uploads, gateway=st.integers(0, GATEWAYS - 1))
        def list_parts(self, upload_id: str, gateway: int) -> None:
            key = self.open[upload_id][0] if upload_id in self.open else "a"
            answer = oss_error(lambda: [(p.part_number, p.etag) for p in oss2.PartIterator(self.via(gateway), key, upload_id)])
            if upload_id not in self.open:
                assert failed(answer) and answer.code == "NoSuchUpload", answer
            else:
                assert answer == sorted((n, etag) for n, (etag, _) in self.open[upload_id][1].items())

        @rule(upload_id=uploads, gateway=st.integers(0, GATEWAYS - 1))
        def complete(self, upload_id: str, gateway: int) -> None:
            if upload_id not in self.open:
                return  # a Complete of a finished upload is the retry case, covered above
            key, parts = self.open[upload_id]
            chosen = [PartInfo(n, parts[n][0]) for n in sorted(parts)]
            answer = oss_error(lambda: self.via(gateway).complete_multipart_upload(key, upload_id, chosen))
            if not chosen:
                assert failed(answer), answer
                return
            assert not failed(answer), answer
            self.objects[key] = b"".join(parts[n][1] for n in sorted(parts))
            del self.open[upload_id]

        @rule(upload_id=uploads, gateway=st.integers(0, GATEWAYS - 1))
        def abort(self, upload_id: str, gateway: int) -> None:
            key = self.open[upload_id][0] if upload_id in self.open else "a"
            answer = oss_error(lambda: self.via(gateway).abort_multipart_upload(key, upload_id))
            if upload_id not in self.open:
                assert failed(answer) and answer.code == "NoSuchUpload", answer
                return
            assert not failed(answer), answer
            del self.open[upload_id]

    run_state_machine_as_test(Model, settings=settings(
        max_examples=MODEL_EXAMPLES, stateful_step_count=25, deadline=None, derandomize=False,
        suppress_health_check=list(HealthCheck), database=None))
    assert_consistent(gateways.servers[0])


def test_collectors_of_three_gateways_at_once_free_what_nothing_owns_and_nothing_else(gateways: Gateways) -> None:
    """Blobs nothing owns (as a crash between a blob's write and its commit leaves them), then
    ``tessera admin gc`` through all three gateways' storage at the same moment: each stray is
    freed once, every object still reads back, fsck is clean."""
    bucket = new_bucket(gateways, "collected")
    kept = {f"k{n}": os.urandom(2000 + n) for n in range(20)}
    for n, (key, body) in enumerate(kept.items()):
        gateways.bucket(n, bucket.bucket_name).put_object(key, body)
    strays = [os.urandom(16).hex() for _ in range(30)]
    if gateways.store is not None:
        client = gateways.store.client()
        for blob_id in strays:
            client.put_object(Bucket="gateways", Key=f"shared/blobs/{blob_id}", Body=b"stray")
    else:
        for blob_id in strays:
            path = gateways.servers[0].blobs_dir / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"stray")
    runs = all_at_once(*(lambda s=server: s.admin("gc", "--grace-seconds", "0", "--release-delay-seconds", "0")
                         for server in gateways.servers))
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    removed = [int(line.split(": ")[1]) for run in runs for line in run.stdout.splitlines()
               if line.startswith("orphan files removed")]
    assert sum(removed) == len(strays), removed  # each stray claimed by exactly one collector
    for n, (key, body) in enumerate(kept.items()):
        assert gateways.bucket(n + 1, bucket.bucket_name).get_object(key).read() == body
    assert_consistent(gateways.servers[0])
