"""Copying many files: small ones several at a time, large ones one at a time with their parts in
parallel — so no more than ``--parallel`` requests are ever in flight."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from tessera.client.transfer.model import TransferOptions, TransferResult
from tessera.client.transfer.parallel import run_in_parallel


class Sized(Protocol):
    size: int


Item = TypeVar("Item", bound=Sized)


def run_copies(copy_one: Callable[[Item, threading.Event | None], TransferResult], items: Sequence[Item],
               options: TransferOptions) -> Iterator[TransferResult]:
    """Every item's result as it finishes; the first failure stops the rest and is raised."""
    small = [item for item in items if item.size < options.threshold]
    large = [item for item in items if item.size >= options.threshold]
    yield from run_in_parallel(copy_one, small, options.parallel)
    for item in large:
        yield copy_one(item, None)
