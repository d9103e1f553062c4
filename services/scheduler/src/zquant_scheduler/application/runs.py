"""Run history and control: list (AIP-158 pages, filtered by job, status and scheduled time), get with attempts,
cancel an unended run (the executing replica stops at its next lease renewal)."""

from __future__ import annotations

import datetime as dt

from zquant_kit import pagination
from zquant_kit.clock import Clock
from zquant_kit.errors import FailedPrecondition
from zquant_kit.principal import Principal
from zquant_scheduler.application import access
from zquant_scheduler.application.job_ports import RunFilter, UnitOfWorkFactory
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus, check_transition


class RunUseCases:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def list_runs(
        self, actor: Principal, where: RunFilter, after: tuple[dt.datetime, str] | None, page_size: int
    ) -> pagination.Page[Run]:
        actor.require(access.READ)
        limit = pagination.page_size(page_size)
        scoped = RunFilter(
            owner_id=access.viewer(actor), job_id=where.job_id or None, status=where.status,
            scheduled_after=where.scheduled_after, scheduled_before=where.scheduled_before,
        )  # fmt: skip
        async with self._uow() as uow:
            return pagination.page_of(await uow.runs.list_runs(scoped, after, limit + 1), limit)

    async def get_run(self, actor: Principal, run_id: str) -> tuple[Run, list[Attempt]]:
        actor.require(access.READ)
        async with self._uow() as uow:
            run = await access.own_run(uow, actor, run_id)
            return run, await uow.runs.attempts(run.id)

    async def cancel_run(self, actor: Principal, run_id: str) -> Run:
        actor.require(access.TRIGGER)
        now = self._clock.now()
        async with self._uow() as uow:
            run = await access.own_run(uow, actor, run_id)
            if run.status.terminal:
                raise FailedPrecondition(f"the run already ended ({run.status.value})")
            run.status = check_transition(run.status, RunStatus.CANCELLED)
            run.finished_at, run.error, run.next_attempt_at = now, f"cancelled by {actor.username}", None
            await uow.runs.save(run, None)
            await uow.commit()
        return run
