"""glibc's malloc arenas in ``dayclose run``.

glibc gives a thread that allocates its own arena (up to 8 per core) and memory freed in one arena is not reused by
another: the Kafka loop's thread, the writer thread, the pool's and librdkafka's threads each keep a partly used heap,
and the process's resident memory creeps up over hours of ingest. Two arenas bound that. Measured with
``python -m bench --only memory`` (1M events; peak RSS after 100k → 1M events), two runs each, alternated:
glibc's default 169.7 → 184.2 and 168.7 → 186.3 MB (1.085 ×, 1.104 ×); two arenas (``MALLOC_ARENA_MAX=2``)
167.3 → 176.4 and 167.2 → 177.7 MB (1.054 ×, 1.063 ×). The threads that allocate at the same time are few (one of
them holds the GIL), so they seldom wait on an arena's lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: glibc's ``mallopt`` parameter for the most arenas a process has (``M_ARENA_MAX`` in malloc.h).
M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Limit the process's malloc arenas to ``arenas``, for the threads started after (call it before any). True when
    set; False when ``MALLOC_ARENA_MAX`` is in the environment (the operator's choice: glibc read it at start-up) or
    the C library is not glibc (no ``mallopt``: musl)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
