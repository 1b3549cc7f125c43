"""A disk that fills up (#24): a size-limited tmpfs for PostgreSQL's data directory, which a test fills to the last
byte and then frees, as an operator would. Needs root (mount); :func:`unavailable_reason` says why not."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "a size-limited disk needs root (mount -t tmpfs)"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "a size-limited disk needs mount and umount"
    return None


class Tmpfs:
    """``size_mb`` of tmpfs mounted at ``path`` (created); ``fill()`` takes what is left, ``free()`` gives it back."""

    FILLER = ".disk-filler"

    def __init__(self, path: Path, size_mb: int) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(path)],
            check=True,
            capture_output=True,
            timeout=20,
        )
        self.mounted = True

    @property
    def free_bytes(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def fill(self, leave_bytes: int = 0) -> int:
        """Take all free space but ``leave_bytes`` (in whole pages, as tmpfs counts); returns the bytes taken. Call
        again to take what was freed meanwhile."""
        filler = self.path / self.FILLER
        taken = filler.stat().st_size if filler.exists() else 0
        grow = max(0, self.free_bytes - leave_bytes)
        with filler.open("ab") as f:
            with contextlib.suppress(OSError):  # ENOSPC at the very end: full is what we want
                os.posix_fallocate(f.fileno(), taken, grow)
        return (self.path / self.FILLER).stat().st_size

    def release(self) -> None:
        """Free what :meth:`fill` took."""
        (self.path / self.FILLER).unlink(missing_ok=True)

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True, timeout=20)
            self.mounted = False
            with contextlib.suppress(OSError):
                self.path.rmdir()
