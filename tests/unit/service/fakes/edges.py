"""A fake of the day-report renderer (:class:`service.ports.DayReports`), and the process dying (:class:`Crash`),
which the fakes of the edges raise where a test says."""

from __future__ import annotations

from dataclasses import dataclass

from service.exporter import Attachment, ChartNames
from service.model import ReportSource


class Crash(BaseException):
    """The process dies here (a SIGKILL): nothing after it runs, nothing it did not commit survives. A
    BaseException, so no handler of ours catches it (run_next_job catches Exception)."""


@dataclass
class FakeReports:
    #: The process dies (:class:`Crash`) while rendering this many reports: after booking, before any attach.
    crashes: int = 0

    def render(self, source: ReportSource, names: ChartNames) -> Attachment:
        if self.crashes:
            self.crashes -= 1
            raise Crash("rendering the day report")
        return Attachment(f"{source.reference}.pdf", b"%PDF-fake")
