"""A progress line on stderr for the long phases of ``make bench``.

On a terminal the line redraws in place (``\\r``) at most ten times a second. Elsewhere (CI, a pipe, a
log file) it prints a plain line at most every ``quiet_every_s`` seconds and one at the end, so logs stay
short and nothing depends on terminal control codes.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR = 24


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "",
        *,
        stream: TextIO | None = None,
        quiet_every_s: float = 15.0,
        enabled: bool = True,
    ) -> None:
        self.label, self.total, self.unit = label, max(1, total), unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet_every_s = quiet_every_s
        self.started = time.monotonic()
        self._last_drawn = 0.0 if self.tty else self.started
        self._done = 0
        self._closed = not enabled

    def update(self, done: int) -> None:
        self._done = done
        if self._closed:
            return
        now = time.monotonic()
        if now - self._last_drawn < (0.1 if self.tty else self.quiet_every_s):
            return
        self._last_drawn = now
        self._draw(end="" if self.tty else "\n")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._draw(end="\n")

    def line(self) -> str:
        share = min(1.0, self._done / self.total)
        elapsed = time.monotonic() - self.started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        bar = "#" * round(share * BAR) + "." * (BAR - round(share * BAR))
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"  {self.label} [{bar}] {self._done:,}/{self.total:,}{unit} {share:4.0%} "
            f"{elapsed:5.1f}s {rate:,.0f}{unit}/s"
        )

    def _draw(self, end: str) -> None:
        prefix = "\r" if self.tty else ""
        self.stream.write(prefix + self.line() + ("\x1b[K" if self.tty else "") + end)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
