"""``dayclose run``: the consumer process, built by :mod:`dayclose.bootstrap`, with its health server and its
bounded shutdown on SIGTERM/SIGINT; with ``DAYCLOSE_CONSUMER_PROCESSES`` above 1, the supervisor of that many
(:mod:`dayclose.supervisor`)."""

from __future__ import annotations

import gc
import signal
import sys

from dayclose.bootstrap import build_service
from dayclose.config import load_settings
from dayclose.health import HealthServer, consumer_checks
from dayclose.logs import configure_logging
from dayclose.malloc import limit_arenas
from dayclose.preflight import check_kafka, wait_for_database
from dayclose.settings import KEY_ENCRYPTION_KEY
from dayclose.shutdown import EXIT_CUT_SHORT, Watchdog, exit_now
from dayclose.supervisor import Slot, child_settings, supervise
from dayclose.telemetry import consumer_registry

#: How long a thread may hold the GIL while another waits for it (CPython's default: 5 ms). The ingest's writer
#: thread wakes from each database round trip while the loop's thread decodes the next batch; at 5 ms it waits up
#: to that long per round trip, several times per batch. Measured over 200,000 events (`dayclose run`, batches of
#: 500, alternating runs): 16.5 / 23.2 s at 0.5 ms against 20.8 / 25.9 s at 5 ms.
GIL_SWITCH_INTERVAL_S = 0.0005
#: The cyclic collector's first-generation threshold (CPython's default: 700 container allocations). Ingest allocates
#: a dozen containers per event (the decoded record's dicts and lists), none of them in a cycle: at 700 the
#: collector ran every ~60 events and walked every young batch object each time.
GC_GEN0_THRESHOLD = 50_000


def main(process: str | None = None) -> int:
    """``dayclose run``; ``process`` (``i/n``) when started by the supervisor of a pod's ``n`` consumer processes."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    limit_arenas()  # before any thread starts (dayclose/malloc.py)
    settings = load_settings(needs=(KEY_ENCRYPTION_KEY,))
    if process is None and settings.consumer_processes > 1:
        configure_logging(settings.log_level, settings.log_format, fields={"consumer_process": "supervisor"})
        return supervise(settings)
    host = "0.0.0.0"  # noqa: S104 - probed by the kubelet
    if process is not None:
        slot = Slot.parse(process)
        settings = child_settings(settings, slot)
        host = "127.0.0.1"  # asked by its supervisor only
        configure_logging(settings.log_level, settings.log_format, fields={"consumer_process": slot.index})
    else:
        configure_logging(settings.log_level, settings.log_format)
    wait_for_database(settings.database_url, settings.startup_timeout_s)
    check_kafka(settings, settings.startup_timeout_s)
    service = build_service(settings)
    gc.freeze()  # what start-up built lives as long as the process: never walked again by a collection
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    registry = consumer_registry(service.lag, service.outbox_depth, service.backlog)
    health = HealthServer(consumer_checks(service), settings.http_port, host, registry=registry).start()
    watchdog = Watchdog(settings.shutdown_timeout_s, "dayclose run")

    def on_signal(*_: object) -> None:
        watchdog.arm()  # the process ends at the deadline even if the main thread itself is stuck
        service.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    clean = service.run()
    health.stop()
    if not clean:
        exit_now(EXIT_CUT_SHORT)  # skip destructors: librdkafka's may wait for brokers that are gone
    return 0
