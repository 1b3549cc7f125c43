"""What every export handler is given, wired once by :mod:`dayclose.bootstrap` (tests pass fakes)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from service.exporter import Exporter
from service.lifecycle import ExportPolicy
from service.ports import DayReports, UnitOfWork

STOCKHOLM = ZoneInfo("Europe/Stockholm")


#: Told how each export attempt ended (booked, found_existing, nothing_to_book, failed, transient) and its reason
#: code: the consumer process counts them for Prometheus (:mod:`dayclose.telemetry`); the service layer knows no
#: metrics library.
ExportObserver = Callable[[str, str | None], None]


def unobserved(_outcome: str, _reason_code: str | None) -> None:
    """The default :data:`ExportObserver`: nobody is told."""


def stockholm_today() -> date:
    """Business dates are Swedish: 'today' is today in Stockholm, never UTC's."""
    return datetime.now(STOCKHOLM).date()


@dataclass(frozen=True)
class ExportDeps:
    uow: Callable[[], UnitOfWork]
    exporter: Exporter
    reports: DayReports
    policy: ExportPolicy = field(default_factory=ExportPolicy)
    today: Callable[[], date] = stockholm_today
    #: The wall clock (aware): when late sales stop waiting for a Z-report (service/late_sales.py).
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: This process's id; its connections carry it (``application_name``), so a lease of a dead process is void.
    instance: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    observe: ExportObserver = unobserved

    def lease_owner(self) -> str:
        return f"{self.instance}:{threading.current_thread().name}"
