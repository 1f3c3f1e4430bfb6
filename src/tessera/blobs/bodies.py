"""A request body as a backend consumes it: its chunks, with the size limits enforced as they
arrive, whatever the backend does with them."""

from __future__ import annotations

from typing import AsyncIterator

from tessera.core.errors import EntityTooLarge, IncompleteBody, TesseraError


def check_announced(expected_size: int | None, max_size: int | None) -> None:
    """Refuse a body whose Content-Length is already past ``max_size``, before reading any."""
    if max_size is not None and expected_size is not None and expected_size > max_size:
        raise EntityTooLarge(f"The body is {expected_size} bytes; at most {max_size} are allowed.")


async def checked_chunks(body: AsyncIterator[bytes], *, expected_size: int | None,
                         max_size: int | None) -> AsyncIterator[bytes]:
    """The non-empty chunks of ``body``. Raises IncompleteBody when it is longer or shorter than
    ``expected_size`` or the connection breaks mid-body, EntityTooLarge past ``max_size``."""
    received = 0
    iterator = body.__aiter__()
    while True:
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            break
        except TesseraError:
            raise
        except Exception as error:  # the client hung up, or sent a broken chunked encoding
            raise IncompleteBody(f"The request body could not be read to its end ({error}).") from error
        if not chunk:
            continue
        received += len(chunk)
        if max_size is not None and received > max_size:
            raise EntityTooLarge(f"The body is larger than {max_size} bytes.")
        if expected_size is not None and received > expected_size:
            raise IncompleteBody(f"The body is longer than the Content-Length of {expected_size}.")
        yield chunk
    if expected_size is not None and received < expected_size:
        raise IncompleteBody(
            f"The body ended after {received} of the {expected_size} bytes its Content-Length announced.")
