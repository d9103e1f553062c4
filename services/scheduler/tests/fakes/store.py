"""An in-memory scheduler store for the use-case unit tests: the jobs, runs and tombstones the job and run use
cases read and write, on the kit's transactional fake unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from zquant_kit.testing import FakeDatabase, FakeUnitOfWork, delete_where
from zquant_scheduler.application.job_ports import Lease, RunFilter
from zquant_scheduler.domain.jobs import Job
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus


@dataclass
class SchedulerStore:
    jobs: dict[str, Job] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    deleted_users: set[str] = field(default_factory=set)
    processed: set[tuple[str, str]] = field(default_factory=set)


class FakeJobs:
    def __init__(self, store: SchedulerStore) -> None:
        self._s = store

    async def add(self, job: Job) -> None:
        self._s.jobs[job.id] = job

    async def get(self, job_id: str) -> Job | None:
        return self._s.jobs.get(job_id)

    async def name_taken(self, owner_id: str, name: str, other_than: str | None) -> bool:
        return any(j.owner_id == owner_id and j.name == name and j.id != other_than for j in self._s.jobs.values())

    async def save(self, job: Job) -> None:
        self._s.jobs[job.id] = job

    async def delete(self, job_id: str) -> None:
        self._s.jobs.pop(job_id, None)

    async def list_jobs(self, owner_id: str | None, after: tuple[str, str] | None, limit: int) -> list[Job]:
        found = sorted((j for j in self._s.jobs.values() if owner_id in (None, j.owner_id)), key=lambda j: (j.name, j.id))
        return [j for j in found if after is None or (j.name, j.id) > after][:limit]

    async def delete_owned(self, owner_id: str) -> int:
        return delete_where(self._s.jobs, lambda job: job.owner_id == owner_id)


def _matches(run: Run, where: RunFilter) -> bool:
    return (
        where.owner_id in (None, run.owner_id) and where.job_id in (None, run.job_id)
        and where.status in (None, run.status)
        and (where.scheduled_after is None or run.scheduled_time >= where.scheduled_after)
        and (where.scheduled_before is None or run.scheduled_time < where.scheduled_before)
    )  # fmt: skip


class FakeRuns:
    def __init__(self, store: SchedulerStore) -> None:
        self._s = store

    async def add_new(self, runs: Sequence[Run], lease: Lease | None) -> list[Run]:
        taken = {(r.job_id, r.scheduled_time) for r in self._s.runs.values()}
        new = [run for run in runs if (run.job_id, run.scheduled_time) not in taken]
        self._s.runs.update({run.id: run for run in new})
        return new

    async def get(self, run_id: str) -> Run | None:
        return self._s.runs.get(run_id)

    async def save(self, run: Run, lease: Lease | None) -> None:
        self._s.runs[run.id] = run

    async def attempts(self, run_id: str) -> list[Attempt]:
        return [a for a in self._s.attempts if a.run_id == run_id]

    async def list_runs(self, where: RunFilter, after: tuple[dt.datetime, str] | None, limit: int) -> list[Run]:
        found = sorted((r for r in self._s.runs.values() if _matches(r, where)),
                       key=lambda r: (r.scheduled_time, r.id), reverse=True)  # fmt: skip
        return [r for r in found if after is None or (r.scheduled_time, r.id) < after][:limit]

    async def cancel_unended(self, where: RunFilter, now: dt.datetime, reason: str) -> int:
        unended = [r for r in self._s.runs.values() if _matches(r, where) and not r.status.terminal]
        for run in unended:
            run.status, run.finished_at, run.error = RunStatus.CANCELLED, now, reason
        return len(unended)


class FakeDeleted:
    def __init__(self, store: SchedulerStore) -> None:
        self._s = store

    async def add(self, user_id: str) -> None:
        self._s.deleted_users.add(user_id)

    async def contains(self, user_id: str) -> bool:
        return user_id in self._s.deleted_users


class FakeSchedulerUnitOfWork(FakeUnitOfWork[SchedulerStore]):
    def _bind(self, work: SchedulerStore) -> None:
        super()._bind(work)
        self.jobs = FakeJobs(work)
        self.runs = FakeRuns(work)
        self.deleted_users = FakeDeleted(work)


def fake_database() -> FakeDatabase[SchedulerStore]:
    return FakeDatabase(SchedulerStore())
