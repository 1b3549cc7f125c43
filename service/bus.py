"""The one way in for the use cases that are commands: a map from command type to its handler, as cosmicpython's
message bus.

The adapters translate their input into a command and call :func:`handle`: the Kafka ingest inside the batch's
unit of work (BackOffice's commands and the batch's sales, :class:`service.sales.RecordSales`, commit with the batch,
before its offsets are stored); the API and the CLI's retry with :func:`handle_in`, which opens a unit of work of
its own and commits it when the handler returns; the API's export button
(:class:`service.manual_exports.RequestManualExport`), the integration's lifecycle
(:mod:`service.integration_lifecycle`: store a verified key, set the start date, activate, deactivate; also from
BL's callbacks), a plan save (:class:`service.plan_saves.SavePlan`) and a correction
(:class:`service.correction_requests.CorrectDay`) in the API's unit of work, a correction also over the CLI's one
connection (:class:`storage.uow.OnConnection`), and the retention purge (:class:`service.retention.PurgeSales`)
over the CLI's autocommit connection. A handler is a plain function ``handler(uow, command) -> result``
in :mod:`service` over the narrow ports it uses, and never commits.

The API's steps that ask BL before they write (verify a key, the wizard's activation, a plan save checked against the
company's chart, a correction dated in its original period) go through :func:`handle_asking`: ``handler(bl, units,
command)`` is given the BL ports it asks (:mod:`service.ports.bl`, the API's directory wired in
:func:`dayclose.bootstrap.build_api`) and a factory of units of work, asks BL with no transaction open and commits what
it writes (:mod:`service.bl_checks`, :func:`service.plan_saves.check_and_save_plan`, :mod:`service.correction_checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, overload

from service import (
    bl_checks,
    commands,
    correction_checks,
    correction_requests,
    integration_lifecycle,
    manual_exports,
    plan_saves,
    retention,
    sales,
)
from service.bl_checks import CheckAndActivate, LifecycleUnit, VerifyKey
from service.commands import CommandUnit, CommandWork, JobsQueued, Resumed, ResumeExports, RetryPlanFixes
from service.correction_checks import CheckAndCorrect, CorrectionAsked, CorrectionUnit
from service.correction_requests import CorrectDay, CorrectionWork, Requested
from service.integration_lifecycle import (
    Activate,
    Activated,
    Deactivate,
    Deactivated,
    KeyStored,
    LifecycleWork,
    SetStartDate,
    StartDateSet,
    StoreVerifiedKey,
)
from service.manual_exports import ManualExportAsked, ManualExportWork, RequestManualExport
from service.messages import Command, ManualExportRequested, RetryFailedExports
from service.plan_saves import CheckAndSavePlan, PlanStored, PlanUnit, PlanWork, SavePlan
from service.ports.bl import ChartReader, CompanyBooks, FiscalYearReader, KeyVerifier
from service.retention import PurgeResult, PurgeSales, PurgeWork
from service.sales import RecordSales, SalesRecorded, SalesWork

#: What the bus takes: BackOffice's commands from Kafka, the API and the CLI, the API's own, the sales batches the
#: Kafka ingest records, the corrections asked for through the API and the CLI, and the API's export button.
Message = (
    Command
    | RetryPlanFixes
    | ResumeExports
    | RecordSales
    | CorrectDay
    | RequestManualExport
    | Activate
    | Deactivate
    | SetStartDate
    | StoreVerifiedKey
    | SavePlan
    | PurgeSales
)
Result = (
    JobsQueued
    | Resumed
    | SalesRecorded
    | Requested
    | ManualExportAsked
    | Activated
    | Deactivated
    | StartDateSet
    | KeyStored
    | PlanStored
    | PurgeResult
    | CorrectionAsked
)

#: Command type → its handler. A handler takes the unit of work through the narrow ports it uses (a
#: :class:`~service.ports.UnitOfWork` has them all).
HANDLERS: Mapping[type[Any], Callable[[Any, Any], Result]] = {
    ManualExportRequested: commands.request_manual_export,
    RetryFailedExports: commands.retry_failed,
    RetryPlanFixes: commands.retry_plan_fixes,
    ResumeExports: commands.resume_exports,
    RecordSales: sales.record_sales,
    CorrectDay: correction_requests.correct_day,
    RequestManualExport: manual_exports.ask_for_export,
    Activate: integration_lifecycle.activate,
    Deactivate: integration_lifecycle.deactivate,
    SetStartDate: integration_lifecycle.set_start_date,
    StoreVerifiedKey: integration_lifecycle.store_verified_key,
    SavePlan: plan_saves.save_plan,
    PurgeSales: retention.purge_sales,
}

#: What :func:`handle_asking` takes: the API's steps that ask BL before they write.
AskingMessage = VerifyKey | CheckAndActivate | CheckAndSavePlan | CheckAndCorrect

#: Command type → its handler ``handler(bl, units, command)``: it asks BL with no transaction open and commits.
ASKING_BL: Mapping[type[Any], Callable[[Any, Any, Any], Result]] = {
    VerifyKey: bl_checks.verify_key,
    CheckAndActivate: bl_checks.check_and_activate,
    CheckAndSavePlan: plan_saves.check_and_save_plan,
    CheckAndCorrect: correction_checks.check_and_correct,
}


@overload
def handle(uow: CommandWork, command: ResumeExports) -> Resumed: ...


@overload
def handle(uow: SalesWork, command: RecordSales) -> SalesRecorded: ...


@overload
def handle(uow: CorrectionWork, command: CorrectDay) -> Requested: ...


@overload
def handle(uow: ManualExportWork, command: RequestManualExport) -> ManualExportAsked: ...


@overload
def handle(uow: LifecycleWork, command: Activate) -> Activated: ...


@overload
def handle(uow: LifecycleWork, command: Deactivate) -> Deactivated: ...


@overload
def handle(uow: LifecycleWork, command: SetStartDate) -> StartDateSet: ...


@overload
def handle(uow: LifecycleWork, command: StoreVerifiedKey) -> KeyStored: ...


@overload
def handle(uow: PlanWork, command: SavePlan) -> PlanStored: ...


@overload
def handle(uow: PurgeWork, command: PurgeSales) -> PurgeResult: ...


@overload
def handle(uow: CommandWork, command: Command | RetryPlanFixes) -> JobsQueued: ...


def handle(
    uow: CommandWork | SalesWork | CorrectionWork | ManualExportWork | LifecycleWork | PlanWork | PurgeWork,
    command: Message,
) -> Result:
    """Run ``command``'s handler in the caller's unit of work (the caller commits)."""
    return HANDLERS[type(command)](uow, command)


def handle_in(units: Callable[[], CommandUnit], command: Command) -> JobsQueued:
    """Run ``command``'s handler in a unit of work of its own, committed when the handler returns (rolled back when
    it raises)."""
    with units() as uow:
        result = handle(uow, command)
        uow.commit()
    return result


@overload
def handle_asking(bl: KeyVerifier, units: Callable[[], LifecycleUnit], command: VerifyKey) -> KeyStored: ...


@overload
def handle_asking(bl: CompanyBooks, units: Callable[[], LifecycleUnit], command: CheckAndActivate) -> Activated: ...


@overload
def handle_asking(bl: ChartReader, units: Callable[[], PlanUnit], command: CheckAndSavePlan) -> PlanStored: ...


@overload
def handle_asking(
    bl: FiscalYearReader, units: Callable[[], CorrectionUnit], command: CheckAndCorrect
) -> CorrectionAsked: ...


def handle_asking(
    bl: KeyVerifier | CompanyBooks | ChartReader | FiscalYearReader,
    units: Callable[[], LifecycleUnit] | Callable[[], PlanUnit] | Callable[[], CorrectionUnit],
    command: AskingMessage,
) -> Result:
    """Run ``command``'s handler with the BL ports it asks and units of work of its own, committed by the handler
    (BL's failure is an :class:`~service.exporter.ExportError`; nothing is written then)."""
    return ASKING_BL[type(command)](bl, units, command)
