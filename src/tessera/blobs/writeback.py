"""Starting the disk write of a blob while its body is still arriving.

Without it, the bytes of a large upload sit in the page cache until the final fsync, which then
writes them all while the client waits: receiving and writing happen one after the other. Asking
the kernel to start writeback every few MiB (Linux ``sync_file_range(SYNC_FILE_RANGE_WRITE)``,
which neither waits nor drops the cached pages) overlaps the two, so the final fsync has little
left to do. Where the call does not exist this does nothing and the fsync does all the work.
"""

from __future__ import annotations

import ctypes
import os
from typing import Callable

WRITEBACK_EVERY = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_call = _sync_file_range()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to begin writing ``length`` bytes at ``offset`` of ``fd`` to disk."""
    if _call is not None and length > 0:
        if _call(fd, offset, length, _SYNC_FILE_RANGE_WRITE) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
