"""Job use cases: create, read, list, replace, delete, pause, resume, trigger now; and the cleanup when identity
deletes a user. A job's config is checked against its targets' own request bounds here, when it is created."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zquant.identity.v1 import events_pb2
from zquant_kit import pagination
from zquant_kit.clock import Clock
from zquant_kit.errors import AlreadyExists, FailedPrecondition
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_scheduler.application import access
from zquant_scheduler.application.job_ports import ConfigChecker, RunFilter, UnitOfWorkFactory
from zquant_scheduler.domain import configs, jobs, triggers
from zquant_scheduler.domain.jobs import Job, MisfirePolicy
from zquant_scheduler.domain.runs import Run, RunStatus, RunTrigger

USER_DELETED = "identity.user.deleted.v1"
USER_CLEANUP_CONSUMER = "scheduler-user-cleanup"


@dataclass(frozen=True)
class JobSpec:
    """What a create or an update sets (an update replaces the whole spec)."""

    name: str
    description: str
    cron_expression: str
    interval_seconds: int
    timezone: str
    trading_days_only: bool
    enabled: bool
    config: Mapping[str, Any]
    max_retries: int
    retry_interval_seconds: int
    misfire_policy: MisfirePolicy


class JobUseCases:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, checker: ConfigChecker,
        wake: Callable[[], None] | None = None,
    ) -> None:
        """`wake()` (optional) tells the local scheduling loop that a run is waiting (a manual trigger)."""
        self._uow = uow
        self._clock = clock
        self._checker = checker
        self._wake = wake

    def _apply(self, job: Job, spec: JobSpec, now: dt.datetime) -> None:
        job.name = jobs.check_name(spec.name)
        job.description = jobs.check_description(spec.description)
        job.trigger = triggers.check_trigger(
            spec.cron_expression, spec.interval_seconds, spec.timezone, spec.trading_days_only
        )
        job.config = self._checker.check(spec.config)
        job.job_type = configs.job_type_of(job.config)
        configs.steps_of(job.config)
        job.max_retries, job.retry_interval_seconds = jobs.check_retries(
            spec.max_retries, spec.retry_interval_seconds
        )
        job.misfire_policy = spec.misfire_policy
        job.enabled = spec.enabled
        job.updated_at = now
        job.next_run_at = self._next(job, now)

    @staticmethod
    def _next(job: Job, now: dt.datetime) -> dt.datetime | None:
        return triggers.next_fire(job.trigger, now, job.created_at) if job.active else None

    async def create_job(self, actor: Principal, spec: JobSpec) -> Job:
        actor.require(access.WRITE)
        now = self._clock.now()
        job = Job(
            id=str(uuid.uuid4()), owner_id=actor.user_id, name="", description="",
            job_type=jobs.JobType.DATA_SYNC, trigger=jobs.Trigger("", 0, triggers.DEFAULT_TIMEZONE),
            config={}, enabled=True, paused=False, max_retries=0, retry_interval_seconds=0,
            misfire_policy=MisfirePolicy.RUN_ONCE_LATE, created_at=now, updated_at=now,
        )  # fmt: skip
        self._apply(job, spec, now)
        async with self._uow() as uow:
            await access.not_deleted(uow, actor)
            if await uow.jobs.name_taken(actor.user_id, job.name, None):
                raise AlreadyExists("job", job.name, "name")
            await uow.jobs.add(job)
            await uow.commit()
        return job

    async def get_job(self, actor: Principal, job_id: str) -> Job:
        actor.require(access.READ)
        async with self._uow() as uow:
            return await access.own_job(uow, actor, job_id)

    async def list_jobs(
        self, actor: Principal, after: tuple[str, str] | None, page_size: int
    ) -> pagination.Page[Job]:
        actor.require(access.READ)
        limit = pagination.page_size(page_size)
        async with self._uow() as uow:
            return pagination.page_of(await uow.jobs.list_jobs(access.viewer(actor), after, limit + 1), limit)

    async def update_job(self, actor: Principal, job_id: str, spec: JobSpec) -> Job:
        actor.require(access.WRITE)
        async with self._uow() as uow:
            job = await access.own_job(uow, actor, job_id)
            self._apply(job, spec, self._clock.now())
            if await uow.jobs.name_taken(job.owner_id, job.name, job.id):
                raise AlreadyExists("job", job.name, "name")
            await uow.jobs.save(job)
            await uow.commit()
        return job

    async def delete_job(self, actor: Principal, job_id: str) -> None:
        """The job goes; its unended runs are cancelled (their history stays)."""
        actor.require(access.WRITE)
        now = self._clock.now()
        async with self._uow() as uow:
            job = await access.own_job(uow, actor, job_id)
            await uow.runs.cancel_unended(RunFilter(job_id=job.id), now, "the job was deleted")
            await uow.jobs.delete(job.id)
            await uow.commit()

    async def pause_job(self, actor: Principal, job_id: str) -> Job:
        return await self._set_paused(actor, job_id, paused=True)

    async def resume_job(self, actor: Principal, job_id: str) -> Job:
        """Resuming fires from now on: slots passed while paused are not made up."""
        return await self._set_paused(actor, job_id, paused=False)

    async def _set_paused(self, actor: Principal, job_id: str, *, paused: bool) -> Job:
        actor.require(access.WRITE)
        now = self._clock.now()
        async with self._uow() as uow:
            job = await access.own_job(uow, actor, job_id)
            job.paused, job.updated_at = paused, now
            job.next_run_at = self._next(job, now)
            await uow.jobs.save(job)
            await uow.commit()
        return job

    async def trigger_job(self, actor: Principal, job_id: str) -> Run:
        """A manual run at once (even of a paused or disabled job); the next free replica executes it."""
        actor.require(access.TRIGGER)
        now = self._clock.now()
        async with self._uow() as uow:
            job = await access.own_job(uow, actor, job_id)
            run = Run(
                id=str(uuid.uuid4()), job_id=job.id, owner_id=job.owner_id, job_name=job.name,
                scheduled_time=now, trigger=RunTrigger.MANUAL, status=RunStatus.PENDING, created_at=now,
                next_attempt_at=now,
            )  # fmt: skip
            if not await uow.runs.add_new([run], None):
                raise FailedPrecondition("a run of this job was triggered at this very instant")
            await uow.commit()
        if self._wake is not None:
            self._wake()
        return run

    async def on_user_deleted(self, event: Event) -> None:
        """Idempotent: the owner's jobs are deleted and their unended runs cancelled, once per event."""
        user_id = event.decode(events_pb2.UserDeletedEvent).user_id
        async with self._uow() as uow:
            if not await uow.claim(USER_CLEANUP_CONSUMER, event.id):
                return
            await uow.deleted_users.add(user_id)
            await uow.runs.cancel_unended(RunFilter(owner_id=user_id), self._clock.now(), "the owner was deleted")
            await uow.jobs.delete_owned(user_id)
            await uow.commit()

