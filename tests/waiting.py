"""Waiting for a condition with a deadline: the one polling loop the tests share (not a sleep that hides a race)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Return once ``check()`` holds; raise ``TimeoutError`` naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)  # polling interval of a deadline loop, not a race-hiding sleep
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
