"""A fake of the job queue port (:class:`service.ports.Jobs`) over the fake tables: leases, parking and backoff
as the export handlers see them, with the tables' clock deciding what is due."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from service.messages import Trigger
from service.model import Job
from tests.unit.service.fakes.tables import Repo


class FakeJobs(Repo):
    def _waiting(self, job: Job) -> bool:
        return job.id in self.t.job_delays or (job.id in self.t.parked and self.t.parked[job.id] > self.t.now)

    def lease_next(self, owner: str, lease: timedelta) -> Job | None:
        due = [j for j in self.t.jobs if not self._waiting(j)]
        busy = {
            (k.organization_id, k.store_id) for k in self.t.jobs if self.t.job_leases.get(k.id, owner) != owner
        }  # another worker runs a job of that store
        heads = [
            j
            for j in due
            if (j.organization_id, j.store_id) not in busy
            and not any(
                k.id < j.id
                and (k.organization_id, k.store_id) == (j.organization_id, j.store_id)
                and not (k.id in self.t.parked and self._waiting(k))  # a parked job holds up nobody
                for k in self.t.jobs
            )
        ]
        if not heads:
            return None
        job = min(heads, key=lambda j: j.id)
        self.t.job_leases[job.id] = owner
        self.uow.wrote("jobs.lease", "job_leases")
        return job

    def renew(self, job: Job, owner: str, lease: timedelta) -> bool:
        self.uow.wrote("jobs.renew", "job_leases")
        return self.t.job_leases.get(job.id) == owner

    def finish(self, job: Job, owner: str) -> bool:
        if self.t.job_leases.get(job.id) != owner:
            return False
        self.t.jobs = [j for j in self.t.jobs if j.id != job.id]
        self.t.sources.pop(job.id, None)
        self.t.parked.pop(job.id, None)
        self.t.job_leases.pop(job.id, None)
        self.uow.wrote("jobs.finish", "jobs", "sources", "parked", "job_leases")
        return True

    def park(self, job: Job, *, until: datetime, owner: str) -> bool:
        if self.t.job_leases.get(job.id) != owner:
            return False
        self.t.parked[job.id] = until
        self.t.job_leases.pop(job.id, None)
        self.uow.wrote("jobs.park", "jobs", "parked", "job_leases")
        return True

    def reschedule(self, job: Job, delay: timedelta, owner: str) -> bool:
        if self.t.job_leases.get(job.id) != owner:
            return False
        self.t.parked.pop(job.id, None)
        self.t.job_delays[job.id] = delay
        self.t.job_leases.pop(job.id, None)
        self.t.jobs = [replace(j, attempts=j.attempts + 1) if j.id == job.id else j for j in self.t.jobs]
        self.uow.wrote("jobs.reschedule", "jobs", "job_delays", "job_leases")
        return True

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
        if source_id in self.t.sources.values():
            return False
        next_id = max((j.id for j in self.t.jobs), default=self.t.last_job) + 1
        self.t.last_job = next_id
        self.t.sources[next_id] = source_id
        self.t.jobs.append(Job(next_id, org, store, day, trigger, 0, 0.0, z_report_number, register))
        self.uow.wrote("jobs.queue", "jobs", "sources", "last_job")
        return True
