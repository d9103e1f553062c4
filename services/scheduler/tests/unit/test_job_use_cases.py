"""Job and run use cases against the in-memory store: permissions, ownership (another user's ids are NOT_FOUND),
names unique per owner, pause/resume and next fire times, manual triggers, cancel, and the user-deleted cleanup."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from services.scheduler.tests.fakes.store import FakeSchedulerUnitOfWork, fake_database
from services.scheduler.tests.fakes.world import owner, spec
from zquant.identity.v1 import events_pb2
from zquant_kit.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied, Unauthenticated
from zquant_kit.events.model import Event
from zquant_kit.testing import FakeClock
from zquant_scheduler.adapters.config_checker import ProtoConfigChecker
from zquant_scheduler.application.job_ports import RunFilter
from zquant_scheduler.application.jobs import USER_DELETED, JobUseCases
from zquant_scheduler.application.runs import RunUseCases
from zquant_scheduler.domain.runs import RunStatus

pytestmark = pytest.mark.unit
NOW = dt.datetime(2024, 2, 8, 8, 0, 30, tzinfo=dt.UTC)


@pytest.fixture
def world():
    database = fake_database()
    clock = FakeClock(NOW)
    uow = lambda: FakeSchedulerUnitOfWork(database)  # noqa: E731
    return JobUseCases(uow, clock, ProtoConfigChecker()), RunUseCases(uow, clock), database


async def test_create_computes_the_next_fire_time_and_names_are_unique_per_owner(world):
    jobs, _, _ = world
    job = await jobs.create_job(owner(), spec(cron_expression="0 17 * * *", interval_seconds=0))
    assert job.next_run_at == dt.datetime(2024, 2, 8, 9, 0, tzinfo=dt.UTC)  # 17:00 Asia/Shanghai
    with pytest.raises(AlreadyExists):
        await jobs.create_job(owner(), spec())
    await jobs.create_job(owner("u-2"), spec())  # the same name, another owner


async def test_permissions_and_ownership(world):
    jobs, _, _ = world
    job = await jobs.create_job(owner(), spec())
    viewer = dataclasses.replace(owner("u-3"), permissions=frozenset({"scheduler:read"}))
    with pytest.raises(PermissionDenied):
        await jobs.create_job(viewer, spec("mine"))
    with pytest.raises(PermissionDenied):
        await jobs.trigger_job(viewer, job.id)
    for call in (jobs.get_job(owner("u-2"), job.id), jobs.pause_job(owner("u-2"), job.id),
                 jobs.trigger_job(owner("u-2"), job.id), jobs.delete_job(owner("u-2"), job.id)):  # fmt: skip
        with pytest.raises(NotFound):
            await call
    assert (await jobs.list_jobs(owner("u-2"), None, 10)).items == []
    assert [j.id for j in (await jobs.list_jobs(owner("root", admin=True), None, 10)).items] == [job.id]


async def test_pause_resume_and_trigger_and_cancel(world):
    jobs, runs, _ = world
    job = await jobs.create_job(owner(), spec(interval_seconds=60))
    assert (await jobs.pause_job(owner(), job.id)).next_run_at is None
    assert (await jobs.resume_job(owner(), job.id)).next_run_at == NOW + dt.timedelta(seconds=60)
    run = await jobs.trigger_job(owner(), job.id)
    assert run.status is RunStatus.PENDING and run.next_attempt_at == NOW
    with pytest.raises(FailedPrecondition):
        await jobs.trigger_job(owner(), job.id)  # the same instant: one run per (job, time)
    cancelled = await runs.cancel_run(owner(), run.id)
    assert cancelled.status is RunStatus.CANCELLED
    with pytest.raises(FailedPrecondition):
        await runs.cancel_run(owner(), run.id)
    with pytest.raises(NotFound):
        await runs.get_run(owner("u-2"), run.id)
    page = await runs.list_runs(owner(), RunFilter(status=RunStatus.CANCELLED), None, 10)
    assert [r.id for r in page.items] == [run.id]


async def test_user_deleted_cleans_up_once(world):
    jobs, _, database = world
    job = await jobs.create_job(owner("gone"), spec())
    await jobs.create_job(owner("stays"), spec())
    run = await jobs.trigger_job(owner("gone"), job.id)
    event = Event.create(USER_DELETED, events_pb2.UserDeletedEvent(user_id="gone"))
    await jobs.on_user_deleted(event)
    commits = database.commits
    await jobs.on_user_deleted(event)
    assert database.commits == commits, "a redelivery must change nothing"
    assert [j.owner_id for j in database.store.jobs.values()] == ["stays"]
    assert database.store.runs[run.id].status is RunStatus.CANCELLED
    with pytest.raises(Unauthenticated):
        await jobs.create_job(owner("gone"), spec("again"))
