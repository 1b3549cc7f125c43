"""Wake-ups from PostgreSQL: ``LISTEN`` on a channel that writers ``NOTIFY`` at commit (new jobs, new outbox
rows), from any process, so the export workers and the outbox relay act within milliseconds of a commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
import structlog

from storage.jobs import JOBS_CHANNEL
from storage.outbox import CHANNEL as OUTBOX_CHANNEL

log = structlog.get_logger("dayclose.notify")


def listen(
    database_url: str,
    channel: str,
    on_notify: Callable[[], None],
    stop: threading.Event,
    name: str,
    connect_kwargs: Mapping[str, Any] | None = None,
) -> threading.Thread:
    """A thread that calls ``on_notify`` on every ``NOTIFY channel`` (PostgreSQL sends it at commit), once after
    (re)connecting to catch up on what was committed meanwhile, until ``stop``. ``connect_kwargs`` bound how long a
    silent server goes unnoticed (:mod:`storage.connections`): a listener waits on a connection that sends nothing,
    and only keepalives tell it the server is gone."""

    def run() -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(database_url, autocommit=True, **(connect_kwargs or {})) as conn:
                    conn.execute(f"LISTEN {channel}")
                    on_notify()
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            on_notify()
            except psycopg.OperationalError:
                log.warning("listener.reconnecting", channel=channel)
                stop.wait(1.0)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


def listen_for_jobs(
    database_url: str,
    on_notify: Callable[[], None],
    stop: threading.Event,
    connect_kwargs: Mapping[str, Any] | None = None,
) -> threading.Thread:
    """Calls ``on_notify`` whenever export jobs are queued (in any process)."""
    return listen(database_url, JOBS_CHANNEL, on_notify, stop, "jobs-listener", connect_kwargs)


def listen_for_outbox(
    database_url: str,
    on_notify: Callable[[], None],
    stop: threading.Event,
    connect_kwargs: Mapping[str, Any] | None = None,
) -> threading.Thread:
    """Calls ``on_notify`` whenever outbox rows are committed (in any process)."""
    return listen(database_url, OUTBOX_CHANNEL, on_notify, stop, "outbox-listener", connect_kwargs)
