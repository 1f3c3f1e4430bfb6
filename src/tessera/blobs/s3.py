"""The ``s3://BUCKET/PREFIX?endpoint=URL`` blob backend: each blob one object in an S3-compatible
store (SeaweedFS, Ceph RGW, MinIO, Garage, AWS S3, OSS's S3 API), through obstore
(docs/scale-out.md).

- A write streams the body: up to ``SINGLE_PUT`` bytes are held and sent in one PUT; a longer
  body becomes an upstream multipart upload of ``PART``-sized parts, at most
  ``UPLOAD_CONCURRENCY`` in flight, so a write holds at most ~(1 + concurrency) × PART in memory.
  A failed write (short body, wrong MD5, client gone) aborts the upstream upload: no object;
  one cut short by a crash is aborted by the collector (``tessera.blobs.s3_uploads``).
- A read asks for the first slice before the answer is promised (a blob already gone is
  BlobMissing, and the reader looks at the metadata again); the other slices are asked for as
  the body is streamed. Released blobs are deleted only after a delay (``RELEASE_DELAY_SECONDS``,
  through the collector), so a stream that started before its object was replaced or deleted
  finishes, on any gateway, unless it takes longer than that.
- Anything the upstream store answers other than "not found" — refused connections, timeouts,
  5xx, authentication failures — is ServiceUnavailable, never an object half written.

Credentials come from the environment as for any AWS client (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), never from the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, AsyncIterator, Awaitable, TypeVar
from urllib.parse import parse_qs, urlsplit

from tessera.blobs.backend import BlobBackend, BlobSlice, OpenedBlobs, StoredBlob, WrittenBlob
from tessera.blobs.bodies import check_announced, checked_chunks
from tessera.blobs.digests import Digests
from tessera.blobs.s3_uploads import UpstreamUploads
from tessera.core.errors import BlobDamaged, BlobMissing, InvalidDigest, ServiceUnavailable

T = TypeVar("T")

SINGLE_PUT = 8 * 1024 * 1024
PART = 8 * 1024 * 1024
UPLOAD_CONCURRENCY = 4
HASH_IN_THREAD = 256 * 1024  # batches at least this large are hashed off the event loop
READ_CHUNK = 1024 * 1024
DELETE_BATCH = 1000
RELEASE_DELAY_SECONDS = 15 * 60
DEFAULT_TIMEOUT_SECONDS = 30.0
RETRIES = 2  # of a request that failed in a way worth retrying, within RETRY_SECONDS
RETRY_SECONDS = 20

_hashing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tessera-s3-hash")


class BadS3Url(ValueError):
    pass


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"
    endpoint: str | None
    region: str
    virtual_hosted: bool
    timeout_seconds: float  # to connect, and for the store to send the next bytes of an answer

    @classmethod
    def parse(cls, url: str) -> "S3Location":
        parts = urlsplit(url)
        if not parts.netloc:
            raise BadS3Url(f"{url}: name the bucket, as in s3://bucket/prefix?endpoint=http://host:port")
        options = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = set(options) - {"endpoint", "region", "addressing", "timeout"}
        if unknown:
            raise BadS3Url(f"{url}: unknown option {sorted(unknown)[0]!r}; s3:// takes endpoint, region, "
                           "addressing, timeout")
        try:
            timeout = float(options.get("timeout", DEFAULT_TIMEOUT_SECONDS))
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 3600:
            raise BadS3Url(f"{url}: timeout is a number of seconds, more than 0 and at most 3600")
        addressing = options.get("addressing", "path")
        if addressing not in ("path", "virtual"):
            raise BadS3Url(f"{url}: addressing is path or virtual, not {addressing!r}")
        endpoint = options.get("endpoint") or None
        if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
            raise BadS3Url(f"{url}: the endpoint is an http:// or https:// URL")
        prefix = parts.path.strip("/")
        return cls(parts.netloc, f"{prefix}/" if prefix else "", endpoint, options.get("region") or "us-east-1",
                   addressing == "virtual", timeout)


def _upstream_failed(error: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"The blob store did not answer as expected; please try again ({type(error).__name__}).")


async def _upstream(call: Awaitable[T]) -> T:
    """``call``'s result; any failure of the store other than "not found" is ServiceUnavailable."""
    try:
        return await call
    except FileNotFoundError:
        raise
    except Exception as error:
        raise _upstream_failed(error) from error


class S3Blobs(BlobBackend):
    release_delay_seconds = RELEASE_DELAY_SECONDS

    def __init__(self, location: S3Location) -> None:
        from obstore.store import S3Store

        self.location = location
        options: dict[str, Any] = {"region": location.region,
                                   "virtual_hosted_style_request": location.virtual_hosted}
        if location.endpoint:
            options["endpoint"] = location.endpoint
        timeout = timedelta(seconds=location.timeout_seconds)
        client: dict[str, Any] = {"connect_timeout": timeout, "read_timeout": timeout,
                                  "timeout": timedelta(hours=12)}  # a stream to a slow client may take long
        if (location.endpoint or "").startswith("http://"):
            client["allow_http"] = True
        self.store = S3Store(location.bucket, client_options=client, retry_config={
            "max_retries": RETRIES, "retry_timeout": timedelta(seconds=RETRY_SECONDS)}, **options)
        self.uploads = UpstreamUploads(location, self.key(""), RETRIES)

    def describe(self) -> str:
        where = f" at {self.location.endpoint}" if self.location.endpoint else ""
        return f"s3://{self.location.bucket}/{self.location.prefix}{where}"

    def key(self, blob_id: str) -> str:
        return f"{self.location.prefix}blobs/{blob_id}"

    # --- writing ---------------------------------------------------------------------------

    async def write(self, blob_id: str, body: AsyncIterator[bytes], *, expected_size: int | None,
                    expected_md5: bytes | None = None, max_size: int | None = None) -> WrittenBlob:
        import obstore

        check_announced(expected_size, max_size)
        digests = Digests()
        held: list[bytes] = []
        held_size = 0
        writer: Any = None
        try:
            async for batch in _batches(checked_chunks(body, expected_size=expected_size, max_size=max_size)):
                await _hash(digests, batch)
                if writer is None and held_size + sum(map(len, batch)) <= SINGLE_PUT:
                    held += batch
                    held_size += sum(map(len, batch))
                    continue
                if writer is None:  # longer than one PUT: an upstream multipart upload
                    writer = obstore.open_writer_async(self.store, self.key(blob_id), buffer_size=PART,
                                                       max_concurrency=UPLOAD_CONCURRENCY)
                    batch, held = held + batch, []
                for chunk in batch:
                    await _upstream(writer.write(chunk))
            written = digests.result()
            if expected_md5 is not None and written.md5 != expected_md5:
                raise InvalidDigest()
            if writer is None:
                await _upstream(obstore.put_async(self.store, self.key(blob_id), b"".join(held), use_multipart=False))
            else:
                upload, writer = writer, None
                await _upstream(upload.close())
        except BaseException as error:
            if writer is not None:  # leaving the writer with an error aborts the upstream upload
                with contextlib.suppress(Exception):
                    await writer.__aexit__(type(error), error, error.__traceback__)
            raise
        return written

    async def write_from(self, blob_id: str, source: OpenedBlobs) -> WrittenBlob:
        return await self.write(blob_id, source.chunks(), expected_size=source.length)

    # --- reading ---------------------------------------------------------------------------

    async def open(self, slices: list[BlobSlice]) -> "OpenedObjects":
        opened = OpenedObjects(self, slices)
        if slices:
            opened.first = await self.get(slices[0])
        return opened

    async def get(self, piece: BlobSlice) -> Any:
        """The GET of one slice, answered (its body not read yet)."""
        import obstore

        try:
            result = await _upstream(obstore.get_async(
                self.store, self.key(piece.blob_id), options={"range": (piece.offset, piece.offset + piece.length)}))
        except FileNotFoundError:
            raise BlobMissing(f"Blob {piece.blob_id} is missing.") from None
        except ServiceUnavailable as unavailable:
            if "Range" in str(unavailable.__cause__) or "416" in str(unavailable.__cause__):
                raise BlobDamaged(f"Blob {piece.blob_id} is shorter than its metadata needs.") from None
            raise
        size = result.meta["size"]
        if size < piece.offset + piece.length:
            raise BlobDamaged(f"Blob {piece.blob_id} has {size} bytes; its metadata needs {piece.offset + piece.length}.")
        return result

    async def exists(self, blob_id: str) -> bool:
        import obstore

        try:
            await _upstream(obstore.head_async(self.store, self.key(blob_id)))
            return True
        except FileNotFoundError:
            return False

    # --- listing and deleting --------------------------------------------------------------

    async def stored(self) -> list[StoredBlob]:
        import obstore

        found: list[StoredBlob] = []
        prefix = self.key("")
        try:
            async for batch in obstore.list(self.store, prefix=prefix, chunk_size=1000):
                found += [StoredBlob(entry["path"][len(prefix):], entry["size"], entry["last_modified"].timestamp())
                          for entry in batch]
        except Exception as error:
            raise _upstream_failed(error) from error
        return found

    async def delete_many(self, blob_ids: list[str]) -> None:
        import obstore

        for start in range(0, len(blob_ids), DELETE_BATCH):
            keys = [self.key(b) for b in blob_ids[start : start + DELETE_BATCH]]
            with contextlib.suppress(FileNotFoundError):
                await _upstream(obstore.delete_async(self.store, keys))

    async def sweep_temporary(self, older_than_seconds: float) -> int:
        """A write that fails aborts its own upstream multipart upload; one cut short by a
        crash is aborted here once its newest part is older than the grace period."""
        return await self.uploads.abort_stale(older_than_seconds)


class OpenedObjects(OpenedBlobs):
    """Slices of upstream objects: the first one's GET already answered, the rest asked for as
    the body goes out."""

    def __init__(self, backend: S3Blobs, slices: list[BlobSlice]) -> None:
        self.backend, self.slices = backend, slices
        self.first: Any = None

    @property
    def length(self) -> int:
        return sum(s.length for s in self.slices)

    def close(self) -> None:
        self.first = None

    async def chunks(self) -> AsyncIterator[bytes]:
        for index, piece in enumerate(self.slices):
            result, self.first = (self.first if index == 0 else None), None
            if result is None:
                try:
                    result = await self.backend.get(piece)
                except BlobMissing as missing:  # gone after the answer was promised: cut the body short
                    raise BlobDamaged(missing.message) from None
            got = 0
            try:
                async for buffer in result.stream(min_chunk_size=READ_CHUNK):
                    chunk = bytes(buffer)
                    got += len(chunk)
                    yield chunk
            except BlobDamaged:
                raise
            except Exception as error:
                raise _upstream_failed(error) from error
            if got != piece.length:
                raise BlobDamaged(f"Blob {piece.blob_id} gave {got} bytes; its metadata needs {piece.length}.")


async def _batches(chunks: AsyncIterator[bytes], size: int = READ_CHUNK) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    batched = 0
    async for chunk in chunks:
        batch.append(chunk)
        batched += len(chunk)
        if batched >= size:
            yield batch
            batch, batched = [], 0
    if batch:
        yield batch


async def _hash(digests: Digests, batch: list[bytes]) -> None:
    if sum(map(len, batch)) >= HASH_IN_THREAD:
        await asyncio.get_running_loop().run_in_executor(_hashing, digests.update, batch)
    else:
        digests.update(batch)
