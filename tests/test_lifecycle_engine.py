"""The lifecycle actions re-check each candidate in their transaction: what changed after the
run selected it is left alone. Driven on a real SQLite storage, without HTTP."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import AsyncIterator

from tessera.cli.runtime import open_storage
from tessera.core import buckets, multipart, objects
from tessera.core.models import ObjectAttributes
from tessera.core.storage import Storage


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _run(tmp_path: Path, scenario) -> None:
    async def main() -> None:
        storage = await open_storage(argparse.Namespace(data_dir=str(tmp_path), metadata_url=None, blobs=None, prices=None))
        try:
            await buckets.create_bucket(storage, "engine", owner="tester")
            await scenario(storage)
        finally:
            await storage.db.close()

    asyncio.run(main())


async def _upload_with_part(storage: Storage, key: str) -> str:
    upload = await multipart.initiate_upload(storage, "engine", key, ObjectAttributes(), initiator="tester")
    await multipart.upload_part(storage, "engine", key, upload.upload_id, 1, _body(b"part"), size=4, content_md5=None)
    return upload.upload_id


def test_an_upload_completed_or_touched_after_selection_is_left_alone(tmp_path: Path) -> None:
    async def scenario(storage: Storage) -> None:
        completed = await _upload_with_part(storage, "completed")
        await multipart.complete_upload(storage, "engine", "completed", completed, None)
        touched = await _upload_with_part(storage, "touched")
        stale = await _upload_with_part(storage, "stale")
        await asyncio.sleep(0.005)
        cutoff = storage.clock()  # the run selects everything last updated by now...
        await asyncio.sleep(0.005)
        await multipart.upload_part(storage, "engine", "touched", touched, 2, _body(b"late"), size=4,
                                    content_md5=None)  # ...and then a part arrives
        aborted = await multipart.abort_stale_uploads(storage, [completed, touched, stale],
                                                      updated_at_or_before_ms=cutoff)
        assert aborted == {stale}
        assert (await objects.object_info(storage, "engine", "completed")).size == 4

    _run(tmp_path, scenario)


def test_an_object_overwritten_after_selection_is_left_alone(tmp_path: Path) -> None:
    async def scenario(storage: Storage) -> None:
        first = await objects.put_object(storage, "engine", "k", _body(b"one"), size=3, content_md5=None,
                                         attrs=ObjectAttributes())
        await objects.put_object(storage, "engine", "gone", _body(b"x"), size=1, content_md5=None,
                                 attrs=ObjectAttributes())
        gone = (await objects.object_info(storage, "engine", "gone"))
        await asyncio.sleep(0.005)
        await objects.put_object(storage, "engine", "k", _body(b"two"), size=3, content_md5=None,
                                 attrs=ObjectAttributes())
        deleted = await objects.expire_objects(storage, "engine", [("k", first.last_modified_ms),
                                                                   ("gone", gone.last_modified_ms)])
        assert deleted == {"gone"}
        assert (await objects.object_info(storage, "engine", "k")).etag != first.etag

    _run(tmp_path, scenario)


def test_a_dry_run_counts_what_the_run_then_does_and_names_the_first(tmp_path: Path) -> None:
    from tessera.core.lifecycle import engine
    from tessera.core.lifecycle.config import put_lifecycle
    from tessera.core.lifecycle.rules import (AbortMultipartUpload, Exclusion, Expiration, Filter, Rule, Tag,
                                              Transition)

    rules = [
        Rule("parts", prefix="tmp/", abort_multipart_upload=AbortMultipartUpload(days=1),
             filter=Filter(exclusions=(Exclusion("tmp/keep/"),))),
        Rule("small-logs", prefix="logs/", expiration=Expiration(days=1), filter=Filter(size_less_than=5)),
        Rule("cold", prefix="data/", transitions=(Transition("IA", days=1),)),
        Rule("tagged", prefix="t/", expiration=Expiration(days=1), tags=(Tag("drop", "yes"),)),
    ]

    async def scenario(storage: Storage) -> None:
        for key in ("tmp/a", "tmp/b", "tmp/c", "tmp/keep/d", "other/e"):
            await _upload_with_part(storage, key)
        for key, size, tags in (("logs/1", 3, {}), ("logs/2", 4, {}), ("logs/3", 9, {}), ("data/x", 6, {}),
                                ("data/y", 7, {}), ("t/1", 1, {"drop": "yes"}), ("t/2", 1, {}),
                                ("t/3", 2, {"drop": "yes"})):
            await objects.put_object(storage, "engine", key, _body(b"z" * size), size=size, content_md5=None,
                                     attrs=ObjectAttributes(tags=tags))
        await put_lifecycle(storage, "engine", rules)
        later = storage.clock() + 2 * 86_400_000
        dry = await engine.run(storage, now_ms=later, dry_run=True, named=1)
        done = await engine.run(storage, now_ms=later, named=10)
        totals = {(o.rule_id, o.action): (o.matched, o.parts, o.bytes) for o in done.outcomes if o.rule_id}
        assert totals == {("parts", "AbortMultipartUpload"): (3, 3, 12), ("small-logs", "Expiration"): (2, 0, 7),
                          ("cold", "Transition:IA"): (2, 0, 13), ("tagged", "Expiration"): (2, 0, 3)}
        assert {(o.rule_id, o.action): (o.matched, o.parts, o.bytes) for o in dry.outcomes if o.rule_id} == totals
        for o in dry.outcomes:
            if o.rule_id:
                assert len(o.items) == 1 and o.truncated and o.items[0].age_ms >= 2 * 86_400_000 - 60_000
        assert {i.key for o in done.outcomes if o.rule_id == "parts" for i in o.items} == {"tmp/a", "tmp/b", "tmp/c"}

    _run(tmp_path, scenario)
