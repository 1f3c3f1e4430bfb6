"""Running the pieces of a copy a few at a time, stopping them all when one fails."""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Cancelled(Exception):
    """Another piece of the same copy failed, or the user interrupted it."""


def run_in_parallel(work: Callable[[Item, threading.Event], Result], items: Iterable[Item],
                    workers: int) -> Iterator[Result]:
    """``work(item, cancelled)`` for every item, ``workers`` at a time; results as they finish.

    The first failure (or Ctrl-C) sets ``cancelled`` — work checks it between blocks and raises
    ``Cancelled`` — drops what has not started, waits for what is running, and is raised: the
    first failure itself, not the failures it set off in the others.
    """
    cancelled = threading.Event()
    first_failure: list[BaseException] = []
    lock = threading.Lock()

    def guarded(item: Item) -> Result:
        if cancelled.is_set():
            raise Cancelled()
        try:
            return work(item, cancelled)
        except BaseException as error:
            with lock:
                if not cancelled.is_set():
                    first_failure.append(error)
                    cancelled.set()
            raise

    executor = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="transfer")
    pending = {executor.submit(guarded, item) for item in items}
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in finished:
                if future.exception() is not None:
                    raise first_failure[0] if first_failure else future.exception()  # type: ignore[misc]
                yield future.result()
    finally:
        cancelled.set()
        executor.shutdown(wait=True, cancel_futures=True)
