"""What a transfer is asked to do, and what it did."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tessera.client.transfer.checkpoint import DEFAULT_DIRECTORY
from tessera.client.transfer.sizes import MiB

DEFAULT_THRESHOLD = 100 * MiB  # as ossutil's --bigfile-threshold
DEFAULT_PARALLEL = 4


@dataclass(frozen=True)
class TransferOptions:
    threshold: int = DEFAULT_THRESHOLD  # files this large or larger go in parts (ranges when downloading)
    part_size: int | None = None  # None: chosen from the file's size
    parallel: int = DEFAULT_PARALLEL  # parts or ranges of one file in flight
    storage_class: str | None = None  # uploads only
    checkpoint_dir: Path = Path(DEFAULT_DIRECTORY)


@dataclass
class TransferResult:
    source: str
    destination: str
    size: int
    crc64: int
    parts: int = 1  # 1 for a single PutObject or GetObject
    resumed_parts: int = 0  # parts or ranges an earlier run had copied
    transferred: int = 0  # bytes sent or received by this run

    def to_json(self) -> dict[str, object]:
        return {"src": self.source, "dst": self.destination, "bytes": self.size, "crc64": str(self.crc64),
                "parts": self.parts, "resumed_parts": self.resumed_parts, "transferred": self.transferred}
