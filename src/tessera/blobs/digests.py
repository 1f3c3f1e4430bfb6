"""The running MD5 and CRC-64 of a blob as its bytes go by, whatever backend stores them."""

from __future__ import annotations

import hashlib

from tessera.blobs.backend import WrittenBlob
from tessera.blobs.checksums import crc64


class Digests:
    def __init__(self) -> None:
        self.md5 = hashlib.md5()
        self.crc = 0
        self.size = 0

    def update(self, chunks: list[bytes]) -> None:
        """Blocking for large chunks (hashing releases the GIL): call it in a thread then."""
        for chunk in chunks:
            self.md5.update(chunk)
            self.crc = crc64(chunk, self.crc)
            self.size += len(chunk)

    def result(self) -> WrittenBlob:
        return WrittenBlob(self.size, self.md5.digest(), self.crc)
