"""The BackOffice API's half of the composition root (:mod:`dayclose.bootstrap`): the app, its context and its
pool, built from the same settings and the same units of work as the consumer. A module of its own so that
``dayclose run`` (and a pod's supervisor), which never serve the API, never load FastAPI and pydantic (~30 MB)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI
from psycopg_pool import ConnectionPool

from backoffice.app import create_app
from backoffice.auth import TokenVerifier
from backoffice.card.session import Sessions
from backoffice.context import Context
from backoffice.limits import RateLimiter
from dayclose import telemetry
from dayclose.bootstrap import bl_exporter, schema_registry, units_of_work
from dayclose.health import api_checks
from dayclose.settings import Settings
from exporters.bl.directory import BLExporterDirectory
from exporters.bl.exporter import BLExporter
from exporters.bl.ledger import BLLedger
from exporters.reporting import PdfDayReports
from service.deps import stockholm_today
from service.exporter import BLDirectory
from storage.prepared import Connection


def build_api(
    settings: Settings,
    *,
    exporter: BLExporter | None = None,
    bl: BLDirectory | None = None,
    pool: ConnectionPool[Any] | None = None,
    today: Callable[[], date] = stockholm_today,
) -> FastAPI:
    """The BackOffice API (``dayclose api``). Adapters default to production ones built from ``settings``;
    tests pass their own (an opened pool, an exporter pointed at the BL stand-in). No Kafka client: the one
    command the API sends goes through the outbox, published by the consumer process's relay."""
    owns_pool = pool is None
    if pool is None:
        pool = _api_pool(settings)
    uow = units_of_work(settings, pool, schema_registry(settings))
    exporter = exporter or bl_exporter(settings)
    ctx = Context(
        uow=uow,
        bl=bl or BLExporterDirectory(exporter),
        verifier=TokenVerifier(settings.api_tokens),
        sales_retention_days=settings.sales_retention_days,
        reports=PdfDayReports(),
        today=today,
        ledger=BLLedger(exporter),
    )
    opened = pool

    def on_start() -> None:
        if owns_pool:
            opened.open()
            opened.wait(timeout=settings.startup_timeout_s)  # fail fast when the database is unreachable

    def on_stop() -> None:
        if owns_pool:
            opened.close()

    checks = api_checks(lambda: opened.connection(timeout=2.0))
    return create_app(
        ctx,
        checks,
        max_body_bytes=settings.api_max_body_bytes,
        body_timeout_s=settings.api_body_timeout_s,
        rate_limit=RateLimiter(settings.api_rate_limit_per_s, settings.api_rate_limit_burst),
        on_start=on_start,
        on_stop=on_stop,
        metrics=telemetry.api_registry(),
        docs=settings.api_docs,
        card=Sessions(settings.api_tokens) if settings.card_enabled else None,
    )


def _api_pool(settings: Settings) -> ConnectionPool[Any]:
    """The API's connections, opened when the app starts."""
    return ConnectionPool(
        settings.database_url,
        connection_class=Connection,  # prepared statements kept across rollbacks (storage/prepared.py)
        min_size=1,
        max_size=8,
        open=False,
        name="dayclose-api",
        kwargs=settings.database_limits.connect_kwargs(settings.database_url),
        timeout=settings.database_limits.pool_timeout_s,
    )
