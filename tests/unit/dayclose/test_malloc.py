"""``dayclose run`` limits glibc's malloc arenas (dayclose/malloc.py): threads started after share two, where glibc
would give each its own. Counted by glibc itself (``malloc_info``), in a fresh interpreter per case."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

#: Eight threads allocate outside pymalloc (buffers above 512 bytes) and hold it, all alive at once; then glibc's
#: own report of its heaps is written to a file and its arenas counted.
SCRIPT = """
import ctypes, sys, threading
from dayclose.malloc import limit_arenas
limited = limit_arenas() if sys.argv[1] == "limit" else None
held = []
barrier = threading.Barrier(8)
def work():
    held.append([bytearray(4096) for _ in range(500)])
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
fp = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, fp)
libc.fclose(fp)
print(limited, open(sys.argv[2]).read().count("<heap nr="))
"""


def _glibc() -> bool:
    try:
        return hasattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "malloc_info")
    except OSError:
        return False


def _arenas(case: str, tmp_path: Path, env: dict[str, str] | None = None) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, case, str(tmp_path / f"{case}.xml")],
        cwd=REPO,
        env={**{k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not _glibc(), reason="glibc's malloc only")
def test_threads_started_after_the_limit_share_two_arenas_where_glibc_gives_each_its_own(tmp_path: Path) -> None:
    limited, arenas = _arenas("limit", tmp_path)
    assert limited == "True"
    assert arenas <= 2
    _, default = _arenas("default", tmp_path)
    assert default > 2  # the control: without the limit the same threads get more


@pytest.mark.skipif(not _glibc(), reason="glibc's malloc only")
def test_an_operators_malloc_arena_max_is_left_as_set(tmp_path: Path) -> None:
    limited, arenas = _arenas("limit", tmp_path, {"MALLOC_ARENA_MAX": "4"})
    assert limited == "False"
    assert 2 < arenas <= 4
