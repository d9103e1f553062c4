"""Permissions and ownership every scheduler use case shares: a user reaches only their own jobs and runs (another
user's id answers NOT_FOUND, like an id that never existed); an admin reaches all."""

from __future__ import annotations

from zquant_kit.errors import NotFound, Unauthenticated, required
from zquant_kit.principal import Principal
from zquant_scheduler.application.job_ports import SchedulerUnitOfWork
from zquant_scheduler.domain.jobs import Job
from zquant_scheduler.domain.runs import Run

READ = "scheduler:read"
WRITE = "scheduler:write"
TRIGGER = "scheduler:trigger"


def viewer(actor: Principal) -> str | None:
    """The owner a list is limited to; None for an admin."""
    return None if actor.is_admin else actor.user_id


async def own_job(uow: SchedulerUnitOfWork, actor: Principal, job_id: str) -> Job:
    found = await uow.jobs.get(required(job_id, "job_id"))
    if found is None or not (actor.is_admin or found.owner_id == actor.user_id):
        raise NotFound("job", job_id)
    return found


async def own_run(uow: SchedulerUnitOfWork, actor: Principal, run_id: str) -> Run:
    found = await uow.runs.get(required(run_id, "run_id"))
    if found is None or not (actor.is_admin or found.owner_id == actor.user_id):
        raise NotFound("run", run_id)
    return found


async def not_deleted(uow: SchedulerUnitOfWork, actor: Principal) -> None:
    """A deleted user's access token lives on for minutes; it must not create jobs nobody will clean up."""
    if await uow.deleted_users.contains(actor.user_id):
        raise Unauthenticated("account deleted", reason="ACCOUNT_DELETED")
