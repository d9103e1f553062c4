"""Claiming, in one transaction per batch: lock due jobs (`FOR UPDATE SKIP LOCKED`), insert their runs (unique on
job and scheduled time, so a slot fires once whatever the replicas do), advance `next_run_at`, commit.

The runs of on-time slots are inserted already leased to this replica; runs nobody holds (manual triggers, the
runs of a replica that died) are claimed by lease (`claim_orphans`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from zquant_kit.clock import Clock
from zquant_scheduler.application.job_ports import Lease, UnitOfWorkFactory
from zquant_scheduler.application.run_events import run_ended
from zquant_scheduler.domain import triggers
from zquant_scheduler.domain.jobs import Job
from zquant_scheduler.domain.misfire import due_slots
from zquant_scheduler.domain.runs import Run, RunStatus, RunTrigger


@dataclass(frozen=True)
class ClaimSettings:
    batch: int = 200
    lease_seconds: float = 30.0
    misfire_grace_seconds: float = 60.0
    lookahead_seconds: float = 0.5
    """Slots due this soon are claimed now and fired at their time, so the claim's own latency is hidden."""


@dataclass(frozen=True)
class Claimed:
    run: Run
    job: Job


def _run(job: Job, slot: dt.datetime, trigger: RunTrigger, status: RunStatus, now: dt.datetime) -> Run:
    return Run(
        id=str(uuid.uuid4()), job_id=job.id, owner_id=job.owner_id, job_name=job.name, scheduled_time=slot,
        trigger=trigger, status=status, created_at=now,
        started_at=now if status is RunStatus.RUNNING else None,
        finished_at=now if status.terminal else None,
    )  # fmt: skip


def _following(job: Job) -> Callable[[dt.datetime], dt.datetime | None]:
    def following(after: dt.datetime) -> dt.datetime | None:
        return triggers.next_fire(job.trigger, after, job.created_at)

    return following


class RunClaims:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, settings: ClaimSettings, holder: str) -> None:
        self._uow = uow
        self._clock = clock
        self._settings = settings
        self.holder = holder

    @property
    def batch(self) -> int:
        return self._settings.batch

    def lease_from(self, now: dt.datetime) -> Lease:
        return Lease(self.holder, now + dt.timedelta(seconds=self._settings.lease_seconds))

    async def claim_schedules(self, limit: int) -> list[Claimed]:
        now = self._clock.now()
        grace = dt.timedelta(seconds=self._settings.misfire_grace_seconds)
        async with self._uow() as uow:
            ahead = dt.timedelta(seconds=self._settings.lookahead_seconds)
            due = await uow.jobs.claim_due(now + ahead, min(limit, self._settings.batch))
            if not due:
                return []
            starting: list[Run] = []
            skipped: list[Run] = []
            next_runs: dict[str, dt.datetime | None] = {}
            for job in due:
                assert job.next_run_at is not None
                slots = due_slots(job.next_run_at, now, grace, job.misfire_policy, _following(job), ahead)
                starting += [_run(job, slot, RunTrigger.SCHEDULE, RunStatus.RUNNING, now) for slot in slots.on_time]
                if slots.late_run is not None:
                    starting.append(_run(job, slots.late_run, RunTrigger.MISFIRE, RunStatus.RUNNING, now))
                if slots.skipped is not None:
                    skip = _run(job, slots.skipped, RunTrigger.MISFIRE, RunStatus.SKIPPED, now)
                    skip.error = f"{slots.missed} slot(s) missed while no scheduler ran (misfire policy: skip)"
                    skipped.append(skip)
                next_runs[job.id] = slots.next_run_at
            inserted = await uow.runs.add_new(starting, self.lease_from(now))
            for run in await uow.runs.add_new(skipped, None):
                uow.emit(run_ended(run, now))
            await uow.jobs.set_next_runs(next_runs)
            await uow.commit()
        jobs = {job.id: job for job in due}
        return [Claimed(run, jobs[run.job_id]) for run in inserted]

    async def claim_orphans(self, limit: int) -> list[Claimed]:
        """Runs no live lease holds; one whose job is gone is cancelled instead."""
        now = self._clock.now()
        async with self._uow() as uow:
            runs = await uow.runs.claim_ready(now, self.lease_from(now), min(limit, self._settings.batch))
            if not runs:
                return []
            jobs = await uow.jobs.get_many([run.job_id for run in runs])
            claimed = []
            for run in runs:
                if run.job_id in jobs:
                    claimed.append(Claimed(run, jobs[run.job_id]))
                    continue
                run.status, run.finished_at, run.error = RunStatus.CANCELLED, now, "the job was deleted"
                await uow.runs.save(run, None)
            await uow.commit()
        return claimed

    async def renew(self, run_ids: list[str]) -> set[str]:
        """The runs this replica still holds (a cancelled run drops out)."""
        if not run_ids:
            return set()
        async with self._uow() as uow:
            alive = await uow.runs.renew(run_ids, self.lease_from(self._clock.now()))
            await uow.commit()
        return alive

    async def release(self) -> None:
        async with self._uow() as uow:
            await uow.runs.release(self.holder, self._clock.now())
            await uow.commit()
