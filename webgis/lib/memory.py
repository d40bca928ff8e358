"""glibc's malloc, set for a web process whose responses are often a megabyte.

A public items page of 1,000 features is 0.7 MB. It arrives from PostgreSQL as two values of
350 KB and is joined once. By default glibc serves an allocation over 128 KB with a fresh
`mmap` (the threshold rises on the fly to the size last freed), and it gives memory freed at
the top of the heap back to the system once more than twice that is free. So every request
mapped new pages and took a page fault on each one as it was first written. That cost 1.5 ms
of the page's 3 ms of Python CPU (in-process measurement on the bench data).

The settings below keep those buffers in the heap from one request to the next: allocations
under 4 MB come from the heap, and up to 32 MB of free heap is kept. The cost is that a process
holds on to at most that much memory it is not using.

A process started with glibc's own variables (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`)
keeps them. Outside glibc (musl, macOS) nothing changes.
"""

import ctypes
import os

MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 32 << 20

# mallopt parameters, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_OWN_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_large_buffers() -> bool:
    """Applies the thresholds to this process; True if they are in force."""
    if any(name in os.environ for name in _OWN_VARIABLES):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success, 0 on error.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
