"""Bounded shutdown: after SIGTERM a process exits within ``DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS``, whatever
Kafka, PostgreSQL and BL are doing.

The orderly steps (finish the export in hand, commit offsets, flush the outbox relay, close the pool)
each get what is left of the deadline; a step that does not finish in time is left running in a daemon
thread. A :class:`Watchdog`, armed at the signal, ends the process at the deadline in any case, even
when the main thread itself is stuck. Ending early is safe because nothing relies on a clean exit: a
batch is ingested in one transaction and its offsets are stored only after the commit (a cut-off batch
is redelivered and written idempotently); an export has a durable identity and a lease that dies with
this process's database connections, and BL is searched for its reference before any post (a cut-off
post is found or re-posted once, never twice); outcome events wait in the outbox table until a relay
has delivered them. A restart finishes whatever was cut off; the fault suite proves it with SIGKILL.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("dayclose.shutdown")
#: Exit status of a process whose orderly shutdown was cut short by the deadline.
EXIT_CUT_SHORT = 1


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self, reserve: float = 0.0) -> float:
        """Seconds left, less ``reserve`` kept for later steps; never negative."""
        return max(0.0, self.at - time.monotonic() - reserve)


def bounded(step: Callable[[], object], timeout: float, name: str) -> bool:
    """Run ``step`` in a daemon thread and wait at most ``timeout`` seconds. True if it returned (or raised:
    that is logged) in time; False if it is still running, abandoned to the process's exit."""
    done = threading.Event()

    def run() -> None:
        try:
            step()
        except Exception:  # noqa: BLE001 - a failing shutdown step must not stop the others
            log.exception("shutdown.step_failed", step=name)
        finally:
            done.set()

    threading.Thread(target=run, name=f"shutdown-{name}", daemon=True).start()
    if done.wait(timeout):
        return True
    log.warning("shutdown.step_cut_short", step=name, waited_s=round(timeout, 2))
    return False


def exit_now(code: int) -> None:
    """End the process at once: no atexit handlers, no destructors (librdkafka's can block on a broker
    that is gone). Buffered log lines are flushed first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


class Watchdog:
    """Armed once (at the first stop signal); ends the process ``seconds`` later unless it exited before."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self._lock = threading.Lock()
        self.deadline: Deadline | None = None

    def arm(self) -> Deadline:
        """Start the countdown (only the first call does); returns the deadline the process works to."""
        with self._lock:
            if self.deadline is None:
                self.deadline = Deadline(self.seconds)
                # Fire a little early, so that the process is gone by the deadline, not just deciding to go.
                timer = threading.Timer(self.seconds - min(0.5, self.seconds * 0.05), self._fire)
                timer.name, timer.daemon = "shutdown-watchdog", True
                timer.start()
            return self.deadline

    def _fire(self) -> None:
        log.error(
            "shutdown.deadline_exceeded",
            process=self.what,
            deadline_s=self.seconds,
            hint="cut off; a restart finishes what was in flight",
        )
        exit_now(EXIT_CUT_SHORT)
