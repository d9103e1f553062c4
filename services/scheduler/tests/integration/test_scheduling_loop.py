"""The scheduling loop on a real database: interval slots fire once each, a target down is retried then fails
with the reason (and its run publishes RunEndedEvent), a manual trigger runs, a cancel stops a run."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select

from services.scheduler.tests.fakes.targets import RecordingTargets
from services.scheduler.tests.fakes.world import owner, scheduler_app, spec
from zquant_kit.testing import eventually
from zquant_scheduler.adapters.sqlalchemy import tables
from zquant_scheduler.application.job_ports import RunFilter
from zquant_scheduler.domain.runs import RunStatus

pytestmark = pytest.mark.integration


async def _runs(app, job_id: str, status: RunStatus | None = None):
    page = await app.runs.list_runs(owner(), RunFilter(job_id=job_id, status=status), None, 1000)
    return page.items


async def test_every_slot_fires_once_and_succeeds(database_url):
    targets = RecordingTargets()
    app = await scheduler_app(database_url, targets)
    job = await app.jobs.create_job(owner(), spec())
    await app.start()
    try:
        await asyncio.sleep(3.2)
    finally:
        await app.stop()
    runs = await _runs(app, job.id)
    slots = sorted(run.scheduled_time for run in runs)
    assert len(slots) >= 3 and len(set(slots)) == len(slots)
    assert all((b - a).total_seconds() == 1 for a, b in itertools.pairwise(slots)), "a slot was missed"
    keys = [key for _, key, _ in targets.calls]
    assert len(keys) == len(set(keys)), "a run was dispatched twice"
    assert {run.status for run in runs} <= {RunStatus.SUCCEEDED, RunStatus.RUNNING, RunStatus.CANCELLED}


async def test_target_down_retries_then_fails_with_reason_once(database_url):
    targets = RecordingTargets(down=True)
    app = await scheduler_app(database_url, targets)
    job = await app.jobs.create_job(
        owner(), spec(interval_seconds=3600, max_retries=2, retry_interval_seconds=1)
    )
    await app.start()
    try:
        run = await app.jobs.trigger_job(owner(), job.id)

        async def ended():
            found, _ = await app.runs.get_run(owner(), run.id)
            return found

        failed = await eventually(ended, lambda r: r.status is RunStatus.FAILED, timeout=10)
        targets.down = False
        await asyncio.sleep(1.5)
    finally:
        await app.stop()
    _, attempts = await app.runs.get_run(owner(), run.id)
    assert [a.status for a in attempts] == [RunStatus.FAILED] * 3
    assert "ConnectionError" in failed.error and failed.attempts == 3
    assert [key for _, key, _ in targets.calls] == [run.id] * 3, "the target was called again after it returned"
    async with app.engine.connect() as connection:
        events = await connection.scalar(
            select(func.count()).select_from(tables.outbox).where(tables.outbox.c.event_type == "scheduler.run.failed.v1")
        )
    assert events == 1


async def test_owner_without_the_permission_fails_at_once(database_url):
    from services.scheduler.tests.fakes.targets import FakeOwnerTokens

    targets = RecordingTargets()
    app = await scheduler_app(database_url, targets, tokens=FakeOwnerTokens(default={"data:read"}))
    job = await app.jobs.create_job(owner(), spec(interval_seconds=3600, max_retries=3, retry_interval_seconds=1))
    await app.start()
    try:
        run = await app.jobs.trigger_job(owner(), job.id)

        async def ended():
            return (await app.runs.get_run(owner(), run.id))[0]

        failed = await eventually(ended, lambda r: r.status.terminal, timeout=5)
    finally:
        await app.stop()
    assert failed.status is RunStatus.FAILED and "data:sync" in failed.error and failed.attempts == 1
    assert targets.calls == []


async def test_cancel_stops_a_running_run(database_url):
    targets = RecordingTargets(seconds=30)
    app = await scheduler_app(database_url, targets, ZQUANT_SCHEDULER_LEASE_SECONDS="0.6")
    job = await app.jobs.create_job(owner(), spec(interval_seconds=3600))
    await app.start()
    try:
        run = await app.jobs.trigger_job(owner(), job.id)
        await eventually(lambda: _started(targets), bool, timeout=5)
        await app.runs.cancel_run(owner(), run.id)
        await eventually(lambda: _idle(app), bool, timeout=5)
    finally:
        await app.stop()
    found, _ = await app.runs.get_run(owner(), run.id)
    assert found.status is RunStatus.CANCELLED


async def _started(targets):
    return bool(targets.calls)


async def _idle(app):
    return not app.loop.in_flight
