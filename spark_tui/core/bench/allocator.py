"""Keep answers' memory in the heap during a run (glibc only; elsewhere nothing happens).

An answer of 0.2-6 MB is a bytes object of its own, freed once checked. glibc serves blocks over its
mmap threshold with fresh mmap()s, and hands a heap top above its trim threshold back to the kernel:
with a few answers alive per connection (each checked while the next request is on its way) its
dynamic thresholds keep flipping between both, and every answer pays page faults again. At 8 × 4096
floats and 64 connections that doubled the runner's CPU per request (bench/accuracy.py). Fixed
thresholds keep blocks up to 32 MiB in the heap and the heap's top in the process.
"""

from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its dynamic threshold on 64-bit
TRIM_THRESHOLD = 256 << 20


def keep_answers_in_heap() -> bool:
    """Set glibc's thresholds for this process; False where there is no glibc mallopt."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
