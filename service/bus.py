"""The one way in for BackOffice's commands: a map from command type to its handler, as cosmicpython's message bus.

The adapters translate their input into a command and call :func:`handle`: the Kafka ingest inside the batch's
unit of work (BackOffice's commands and the batch's sales, :class:`service.sales.RecordSales`, commit with the batch,
before its offsets are stored), the API and the CLI with
:func:`handle_in`, which opens a unit of work of its own and commits it when the handler returns. A handler is a
plain function ``handler(uow, command) -> result`` in :mod:`service` that never commits itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, overload

from service import commands, sales
from service.commands import JobsQueued, Resumed, ResumeExports, RetryPlanFixes
from service.messages import Command, ManualExportRequested, RetryFailedExports
from service.ports import UnitOfWork
from service.sales import RecordSales, SalesRecorded

#: What the bus takes: BackOffice's commands from Kafka, the API and the CLI, the API's own, and the sales batches the
#: Kafka ingest records.
Message = Command | RetryPlanFixes | ResumeExports | RecordSales
Result = JobsQueued | Resumed | SalesRecorded

#: Command type → its handler.
HANDLERS: Mapping[type[Any], Callable[[UnitOfWork, Any], Result]] = {
    ManualExportRequested: commands.request_manual_export,
    RetryFailedExports: commands.retry_failed,
    RetryPlanFixes: commands.retry_plan_fixes,
    ResumeExports: commands.resume_exports,
    RecordSales: sales.record_sales,
}


@overload
def handle(uow: UnitOfWork, command: ResumeExports) -> Resumed: ...


@overload
def handle(uow: UnitOfWork, command: RecordSales) -> SalesRecorded: ...


@overload
def handle(uow: UnitOfWork, command: Command | RetryPlanFixes) -> JobsQueued: ...


def handle(uow: UnitOfWork, command: Message) -> Result:
    """Run ``command``'s handler in the caller's unit of work (the caller commits)."""
    return HANDLERS[type(command)](uow, command)


def handle_in(units: Callable[[], UnitOfWork], command: Command) -> JobsQueued:
    """Run ``command``'s handler in a unit of work of its own, committed when the handler returns (rolled back when
    it raises)."""
    with units() as uow:
        result = handle(uow, command)
        uow.commit()
    return result
