"""Checkpoints: what an interrupted transfer needs to continue, one small JSON file per transfer.

A checkpoint is replaced atomically (temporary file, fsync, rename, fsync of the directory), so
after ``kill -9`` or a power cut it is the old one or the new one, never half of each. A file that
cannot be read as a checkpoint of the expected kind is ignored: the transfer starts over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tessera.core.processes import process_exists

DEFAULT_DIRECTORY = ".tessera-checkpoints"
TEMPORARY_PREFIX = ".checkpoint."  # then the writer's process ID
VERSION = 1


@dataclass
class UploadCheckpoint:
    """A multipart upload in progress; its parts are asked of the server (ListParts) on resume."""

    source: str
    size: int
    mtime_ns: int
    part_size: int
    bucket: str
    key: str
    storage_class: str | None
    upload_id: str


@dataclass
class DownloadCheckpoint:
    """A ranged download in progress into ``temporary``; ``done`` maps each range number written
    there to the CRC-64 of its bytes."""

    bucket: str
    key: str
    etag: str
    size: int
    last_modified: str
    part_size: int
    destination: str
    temporary: str
    done: dict[int, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["done"] = sorted([number, crc] for number, crc in self.done.items())
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DownloadCheckpoint:
        data = dict(data)
        data["done"] = {int(number): int(crc) for number, crc in data.get("done", [])}
        return cls(**data)


Checkpoint = TypeVar("Checkpoint", UploadCheckpoint, DownloadCheckpoint)


class CheckpointStore:
    """Checkpoint files in one directory, named after what they transfer."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, kind: str, *identity: str) -> Path:
        digest = hashlib.sha256("\0".join(identity).encode("utf-8", "surrogateescape")).hexdigest()
        return self.directory / f"{digest[:32]}.{kind}.json"

    def load(self, path: Path, kind: type[Checkpoint]) -> Checkpoint | None:
        try:
            data = json.loads(path.read_bytes().decode("utf-8", "surrogateescape"))
            if data.pop("version", None) != VERSION or data.pop("kind", None) != kind.__name__:
                return None
            if kind is DownloadCheckpoint:
                return DownloadCheckpoint.from_json(data)  # type: ignore[return-value]
            return kind(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def save(self, path: Path, checkpoint: UploadCheckpoint | DownloadCheckpoint, *, durable: bool = True) -> None:
        """Replace the checkpoint atomically; ``durable`` also waits until it is on disk."""
        data = checkpoint.to_json() if isinstance(checkpoint, DownloadCheckpoint) else dataclasses.asdict(checkpoint)
        document = json.dumps({"version": VERSION, "kind": type(checkpoint).__name__, **data},
                              ensure_ascii=False, indent=1).encode("utf-8", "surrogateescape")
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f"{TEMPORARY_PREFIX}{os.getpid()}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(document)
                out.flush()
                if durable:
                    os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if durable:
            _fsync_directory(self.directory)

    def remove(self, path: Path) -> None:
        """Forget a finished transfer; the directory goes too once nothing else is in it (a
        temporary file a killed process left half-written does not count)."""
        path.unlink(missing_ok=True)
        for leftover in self.directory.glob(f"{TEMPORARY_PREFIX}*"):
            if not process_exists(int(leftover.name.split(".")[2])):
                leftover.unlink(missing_ok=True)
        try:
            self.directory.rmdir()
        except OSError:
            pass


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
