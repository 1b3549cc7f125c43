"""A standalone fake of the job queue (:class:`service.ports.JobQueue`), for the handlers that only queue jobs
(recording sales, corrections), and of the commands' jobs (:class:`service.commands.CommandJobs`), which also
record a command once. They keep every job queued, in order, with every argument; no tables behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from service.messages import Trigger


@dataclass(frozen=True)
class Queued:
    """One job queued: the arguments of ``queue``."""

    org: str
    store: str
    day: date | None
    trigger: Trigger
    source_id: str
    z_report_number: int | None = None
    delay: timedelta | None = None
    register: str | None = None


@dataclass
class FakeJobQueue:
    """Queues as the port promises: once per (organization, source id), True when the job was new."""

    queued: list[Queued] = field(default_factory=list)

    def queue(
        self,
        org: str,
        store: str,
        day: date | None,
        trigger: Trigger,
        source_id: str,
        z_report_number: int | None = None,
        delay: timedelta | None = None,
        *,
        register: str | None = None,
    ) -> bool:
        if any((q.org, q.source_id) == (org, source_id) for q in self.queued):
            return False
        self.queued.append(Queued(org, store, day, trigger, source_id, z_report_number, delay, register))
        return True


@dataclass
class FakeCommandJobs(FakeJobQueue):
    """The job queue of the command handlers: also records each (organization, command id) once."""

    commands: set[tuple[str, str]] = field(default_factory=set)

    def record_command(self, org: str, command_id: str) -> bool:
        fresh = (org, command_id) not in self.commands
        self.commands.add((org, command_id))
        return fresh
