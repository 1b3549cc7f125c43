"""A correction asked for through the API, checked before it is recorded: only while the integration is active, of
an export that exists, and dated in the original period only while BL still takes vouchers on the original date
(its period not locked, its fiscal year open: BL asked with no transaction open). Then :class:`CorrectDay`
(:func:`service.correction_requests.correct_day`) in a unit of work of its own, committed here.

Reached through :func:`service.bus.handle_asking` (:class:`CheckAndCorrect`). The export worker checks the period
again before posting and dates the correction where it is found if BL has locked it meanwhile
(:mod:`service.corrections`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Protocol, Self

from mapping.periods import PeriodChoice
from service.correction_requests import CorrectDay, CorrectionWork, Requested, correct_day
from service.model import Integration, IntegrationStatus
from service.ports.bl import FiscalYearReader
from service.refusals import LifecycleRefused


class ExportNotFound(LookupError):
    """No export with this id in this organization."""


@dataclass(frozen=True)
class CheckAndCorrect:
    organization_id: str
    export_id: uuid.UUID
    reason: str
    requested_by: str
    via: str
    period: PeriodChoice
    #: With ``period`` ORIGINAL: the accountant's statement that the work on that period is not finished.
    statement: str | None
    #: The day the correction is made (today in Stockholm).
    found_on: date


@dataclass(frozen=True)
class CorrectionAsked:
    store_id: str
    business_date: date
    requested: Requested


class CorrectionIntegrations(Protocol):
    def get(self, org: str, *, lock: bool = False) -> Integration | None: ...


class ExportedDays(Protocol):
    def store_day(self, org: str, export_id: uuid.UUID) -> tuple[str, date] | None:
        """The store and business date the export books, or None when there is no such export."""
        ...


class CorrectionUnit(CorrectionWork, Protocol):
    """A unit of work with what checking and recording a correction uses, committed by the handler."""

    @property
    def integrations(self) -> CorrectionIntegrations: ...

    @property
    def exports(self) -> ExportedDays: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...


def check_and_correct(
    bl: FiscalYearReader, units: Callable[[], CorrectionUnit], command: CheckAndCorrect
) -> CorrectionAsked:
    """The correction recorded (:func:`service.correction_requests.correct_day`) once the integration is active
    (``NOT_ACTIVE``), the export exists (:class:`ExportNotFound`) and, for the original period, BL takes vouchers on
    its date (``ORIGINAL_PERIOD_CLOSED``). :class:`~service.correction_requests.NothingToCorrect` when the day has
    nothing booked left to reverse."""
    org = command.organization_id
    with units() as uow:
        state = uow.integrations.get(org)
        found = uow.exports.store_day(org, command.export_id)
    if state is None or state.status != IntegrationStatus.ACTIVE or state.user_key is None:
        raise LifecycleRefused("NOT_ACTIVE", "Corrections are booked only while the integration is active.")
    if found is None:
        raise ExportNotFound(str(command.export_id))
    store, day = found
    if command.period == PeriodChoice.ORIGINAL and not any(
        year.accepts(day) for year in bl.fiscal_years(state.user_key.reveal())
    ):
        raise LifecycleRefused(
            "ORIGINAL_PERIOD_CLOSED",
            f"Björn Lundén no longer takes vouchers dated {day} (its period is locked or its fiscal year closed): "
            "ask for the correction where the error is found instead.",
        )
    with units() as uow:
        requested = correct_day(
            uow,
            CorrectDay(
                org,
                store,
                day,
                reason=command.reason,
                requested_by=command.requested_by,
                via=command.via,
                period=command.period,
                statement=command.statement,
                found_on=command.found_on,
            ),
        )
        uow.commit()
    return CorrectionAsked(store, day, requested)
