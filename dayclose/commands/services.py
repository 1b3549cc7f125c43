"""``dayclose run``, ``dayclose api`` and ``dayclose migrate``: the two long-running processes and the migration."""

from __future__ import annotations

import argparse
from typing import Any

from dayclose import exitcodes
from dayclose.commands.common import Subparsers

RUN_HELP = """Run the consumer process: the Kafka loop (ingests sales and BackOffice's commands into PostgreSQL), the
export workers (book each closed store-day into BL) and the outbox relay (publishes outcomes and dead letters).
Serves /healthz, /readyz and /metrics on DAYCLOSE_HTTP_PORT. Runs until SIGTERM/SIGINT, then stops within
DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS (exit 0, or 1 when a step had to be cut off; what was cut off is redone on
restart). Needs DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, BL_CLIENT_ID, BL_CLIENT_SECRET and
DAYCLOSE_KEY_ENCRYPTION_KEY; waits up to DAYCLOSE_STARTUP_TIMEOUT_SECONDS for PostgreSQL and Kafka. With
DAYCLOSE_CONSUMER_PROCESSES above 1 it runs that many such processes and supervises them."""
API_HELP = """Run the BackOffice HTTP API on DAYCLOSE_HTTP_PORT (also /healthz, /readyz, /metrics; Swagger UI at /docs
when DAYCLOSE_API_DOCS=true). Needs what `run` needs (except Kafka: its commands go through the outbox) and
DAYCLOSE_API_TOKENS. Stops within DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS after SIGTERM."""
MIGRATE_HELP = """Apply the database migrations not applied yet, in order, each in its own transaction, under an
advisory lock (several replicas at once are safe); refuses a migration edited after it was applied."""


def register(sub: Subparsers) -> None:
    for name, summary, text, func in (
        ("run", "run the consumer process (ingest, exports, outbox relay)", RUN_HELP, run),
        ("api", "run the BackOffice HTTP API", API_HELP, api),
        ("migrate", "apply database migrations", MIGRATE_HELP, migrate),
    ):
        parser = sub.add_parser(name, help=summary, description=text)
        parser.set_defaults(func=func)
        if name == "run":  # set by the supervisor of a pod's consumer processes (DAYCLOSE_CONSUMER_PROCESSES)
            parser.add_argument("--process", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    from dayclose.run import main as run_service

    return run_service(args.process)


def migrate(_args: argparse.Namespace) -> int:
    from dayclose.config import load_settings
    from dayclose.logs import configure_logging, get_logger
    from dayclose.preflight import wait_for_database
    from storage.migrate import migrate as apply

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    wait_for_database(settings.database_url, settings.startup_timeout_s)
    applied = apply(settings.database_url)
    get_logger("dayclose.migrate").info("migrations.applied", versions=[m.version for m in applied])
    return exitcodes.OK


def api(_args: argparse.Namespace) -> int:
    import uvicorn

    from dayclose.bootstrap_api import build_api
    from dayclose.config import load_settings
    from dayclose.logs import configure_logging
    from dayclose.preflight import wait_for_database
    from dayclose.settings import API_TOKENS, KEY_ENCRYPTION_KEY
    from dayclose.shutdown import Watchdog

    settings = load_settings(needs=(KEY_ENCRYPTION_KEY, API_TOKENS))  # no request could be authorized without
    configure_logging(settings.log_level, settings.log_format)
    wait_for_database(settings.database_url, settings.startup_timeout_s)
    watchdog = Watchdog(settings.shutdown_timeout_s, "dayclose api")

    class Server(uvicorn.Server):
        """uvicorn, with the process's end bounded: requests in flight get half the deadline, then the
        app's shutdown (the pool) runs, and the watchdog ends whatever is still going at the deadline."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            watchdog.arm()
            super().handle_exit(sig, frame)

    # No access log: BL's activation callbacks carry the merchant's key in the path. The app logs each
    # request by its route template instead.
    config = uvicorn.Config(
        build_api(settings),
        host="0.0.0.0",  # noqa: S104 - in a pod
        port=settings.http_port,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_s / 2)),
    )
    Server(config).run()
    return exitcodes.OK
