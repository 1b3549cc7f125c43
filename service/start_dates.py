"""Which start dates the integration takes: not after today (Europe/Stockholm) and not before the sales retention
period (the sales before it are gone, so no export could start there). Pure; the set-up's handlers check it
(:func:`service.integration_lifecycle.set_start_date`, :func:`service.bl_checks.check_and_activate`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from service.refusals import FieldProblem, InputRefused


@dataclass(frozen=True)
class StartDateWindow:
    #: Today in Stockholm.
    today: date
    #: How long sales are kept (``DAYCLOSE_SALES_RETENTION_DAYS``).
    kept_days: int

    @property
    def earliest(self) -> date:
        return self.today - timedelta(days=self.kept_days)

    def check(self, day: date) -> None:
        """Raise :class:`~service.refusals.InputRefused` (START_DATE_IN_FUTURE, START_DATE_TOO_OLD, on field
        ``start_date``) unless ``day`` is in the window."""
        if day > self.today:
            raise InputRefused(
                "START_DATE_IN_FUTURE",
                f"The start date cannot be after today ({self.today}).",
                (FieldProblem("start_date", "START_DATE_IN_FUTURE", f"must be {self.today} or earlier"),),
            )
        if day < self.earliest:
            raise InputRefused(
                "START_DATE_TOO_OLD",
                f"Sales are kept {self.kept_days} days; the earliest start date is {self.earliest}.",
                (FieldProblem("start_date", "START_DATE_TOO_OLD", f"must be {self.earliest} or later"),),
            )
