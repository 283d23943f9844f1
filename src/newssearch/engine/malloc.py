"""glibc's malloc, set for how newssearch's processes use memory: large numpy arrays made and
dropped by the thousand. Elsewhere than glibc (macOS, musl), nothing is changed.

By default glibc maps every block of 128 KiB or more afresh and unmaps it when freed, and
returns freed memory at the top of its heap at once, until the process frees a large block:
then it serves blocks up to that size from its heap and keeps twice as much freed memory.
Neither suits newssearch as it is:
- a query makes arrays of a segment's size (a score is 8 bytes a document: 160 KB for 20,000),
  and in a process that has not yet freed a large block each is a fresh mapping paid in page
  faults: a rare word on 52 segments took 7.2 ms instead of 1.9 (`serve_queries`);
- a writer process, once the first segment's arrays moved the thresholds, kept the freed
  memory of each segment and grew by some 20 MB a segment (`trim_freed_memory`).
"""

from __future__ import annotations

import ctypes
from functools import cache

_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def trim_freed_memory() -> None:
    """Has freed memory past 128 KiB at the top of the heap returned at once, and large blocks
    always mapped (the thresholds no longer move): a writer process's peak over four segments
    of 20,000 articles, 136 MB by default, is 116 MB (about 5% slower)."""
    _mallopt(_M_TRIM_THRESHOLD, 128 * 1024)


@cache
def serve_queries() -> None:
    """Sets the thresholds glibc itself sets once a 32 MiB block is freed: blocks below 32 MiB
    from the heap, and up to 64 MiB of freed heap kept for the next query; run once, when a
    process first searches."""
    _mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
    _mallopt(_M_TRIM_THRESHOLD, 64 * 1024 * 1024)


def _mallopt(parameter: int, value: int) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(parameter, value)
