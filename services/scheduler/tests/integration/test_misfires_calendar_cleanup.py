"""On a real database: a restart applies each job's misfire policy to the slots it missed; a trading-day trigger
skips a closed day quietly and a day outside the synced calendar with a notification; a pipeline runs its DAG;
identity's user-deleted event removes the owner's jobs and cancels their runs, once."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select, update

from services.scheduler.tests.fakes.targets import RecordingTargets
from services.scheduler.tests.fakes.world import owner, scheduler_app, spec
from zquant.identity.v1 import events_pb2
from zquant_kit.errors import Unauthenticated
from zquant_kit.events.model import Event
from zquant_kit.testing import eventually
from zquant_scheduler.adapters.sqlalchemy import tables
from zquant_scheduler.application.execution import step_key
from zquant_scheduler.application.job_ports import RunFilter
from zquant_scheduler.application.jobs import USER_DELETED
from zquant_scheduler.domain.calendar import TradeCalendar
from zquant_scheduler.domain.jobs import MisfirePolicy
from zquant_scheduler.domain.runs import RunStatus, RunTrigger

pytestmark = pytest.mark.integration
EVERY_SECOND = "* * * * * *"


async def runs_of(app, job_id):
    return (await app.runs.list_runs(owner(), RunFilter(job_id=job_id), None, 1000)).items


async def events(app, subject):
    async with app.engine.connect() as connection:
        query = select(func.count()).select_from(tables.outbox).where(tables.outbox.c.event_type == subject)
        return int(await connection.scalar(query))


async def test_a_restart_applies_each_jobs_misfire_policy(database_url):
    app = await scheduler_app(database_url, RecordingTargets(), ZQUANT_SCHEDULER_MISFIRE_GRACE_SECONDS="2")
    skip = await app.jobs.create_job(owner(), spec("skip", interval_seconds=3600, misfire_policy=MisfirePolicy.SKIP))
    late = await app.jobs.create_job(owner(), spec("late", interval_seconds=3600))
    down_since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4, minutes=30)  # down for five hourly slots
    async with app.engine.begin() as connection:
        await connection.execute(update(tables.jobs).values(created_at=down_since, next_run_at=down_since))
    await app.start()
    try:
        await eventually(lambda: runs_of(app, late.id), lambda runs: runs and runs[0].status.terminal, timeout=5)
    finally:
        await app.stop()
    (skipped,) = await runs_of(app, skip.id)
    assert skipped.status is RunStatus.SKIPPED and skipped.trigger is RunTrigger.MISFIRE
    assert "5 slot(s) missed" in skipped.error
    (ran,) = await runs_of(app, late.id)
    assert ran.status is RunStatus.SUCCEEDED and ran.trigger is RunTrigger.MISFIRE
    assert ran.scheduled_time == down_since + dt.timedelta(hours=4)
    assert await events(app, "scheduler.run.skipped.v1") == 1
    next_at = (await app.jobs.get_job(owner(), late.id)).next_run_at
    assert next_at is not None and next_at > dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("case", ["open", "closed", "unsynced"])
async def test_trading_day_trigger(database_url, case):
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()  # Asia/Shanghai is UTC+8 all year
    year = TradeCalendar(today - dt.timedelta(days=30), today + dt.timedelta(days=30), frozenset())
    calendars = {
        "open": TradeCalendar(year.first, year.last, frozenset({today, today + dt.timedelta(days=1)})),
        "closed": year,
        "unsynced": TradeCalendar(today - dt.timedelta(days=60), today - dt.timedelta(days=31), frozenset()),
    }
    targets = RecordingTargets()
    app = await scheduler_app(database_url, targets, calendar=calendars[case])
    job = await app.jobs.create_job(
        owner(), spec(cron_expression=EVERY_SECOND, interval_seconds=0, trading_days_only=True)
    )
    await app.start()
    try:
        runs = await eventually(lambda: runs_of(app, job.id), lambda r: any(x.status.terminal for x in r), timeout=5)
    finally:
        await app.stop()
    ended = next(run for run in runs if run.status.terminal)
    if case == "open":
        assert ended.status is RunStatus.SUCCEEDED and targets.calls
        return
    assert ended.status is RunStatus.SKIPPED and not targets.calls
    if case == "closed":
        assert "not a trading day" in ended.error and await events(app, "scheduler.run.skipped.v1") == 0
    else:
        assert "outside the synced trade calendar" in ended.error
        assert await events(app, "scheduler.run.skipped.v1") >= 1


@pytest.mark.parametrize("refused", [frozenset(), frozenset({"factor_calculation"})])
async def test_a_pipeline_runs_its_dag_and_stops_the_dependants_of_a_failed_step(database_url, refused):
    targets = RecordingTargets(refuse=refused)
    app = await scheduler_app(database_url, targets)
    config = {"pipeline": {"steps": [
        {"name": "sync", "target": {"data_sync": {}}},
        {"name": "factors", "target": {"factor_calculation": {"factor_ids": ["macd"]}}, "depends_on": ["sync"]},
        {"name": "backtest", "target": {"backtest_run": {"strategy_id": "s", "config": {
            "start_date": "20240102", "end_date": "20240301", "initial_cash": 1e6, "ts_codes": ["000001.SZ"]}}},
         "depends_on": ["factors"]},
    ]}}  # fmt: skip
    job = await app.jobs.create_job(owner(), spec("chain", config=config, interval_seconds=3600))
    await app.start()
    try:
        run = await app.jobs.trigger_job(owner(), job.id)
        done = await eventually(lambda: app.runs.get_run(owner(), run.id), lambda r: r[0].status.terminal, timeout=5)
    finally:
        await app.stop()
    ended, attempts = done
    if refused:
        assert ended.status is RunStatus.FAILED and "step 'factors'" in ended.error
        assert [(a.number, a.step, a.status) for a in attempts] == [
            (1, "sync", RunStatus.SUCCEEDED), (2, "factors", RunStatus.FAILED)]  # fmt: skip
        assert [kind for kind, _, _ in targets.calls] == ["data_sync", "factor_calculation"]
        return
    assert ended.status is RunStatus.SUCCEEDED, ended.error
    assert [(a.step, a.status) for a in attempts] == [(s, RunStatus.SUCCEEDED) for s in ("sync", "factors", "backtest")]
    assert [key for _, key, _ in targets.calls] == [step_key(run.id, s) for s in ("sync", "factors", "backtest")]


async def test_user_deleted_removes_jobs_and_cancels_runs_once(database_url):
    targets = RecordingTargets(seconds=30)
    app = await scheduler_app(database_url, targets)
    job = await app.jobs.create_job(owner("gone"), spec(interval_seconds=3600))
    kept = await app.jobs.create_job(owner("stays"), spec(interval_seconds=3600))
    await app.start()
    try:
        run = await app.jobs.trigger_job(owner("gone"), job.id)
        await eventually(lambda: asyncio.sleep(0, targets.calls), bool, timeout=5)
        event = Event.create(USER_DELETED, events_pb2.UserDeletedEvent(user_id="gone"))
        await app.jobs.on_user_deleted(event)
        await app.jobs.on_user_deleted(event)  # a redelivery does nothing
        await eventually(lambda: asyncio.sleep(0, app.loop.in_flight), lambda busy: not busy, timeout=5)
    finally:
        await app.stop()
    admin = owner("root", admin=True)
    assert [j.id for j in (await app.jobs.list_jobs(admin, None, 100)).items] == [kept.id]
    found, _ = await app.runs.get_run(admin, run.id)
    assert found.status is RunStatus.CANCELLED and found.error == "the owner was deleted"
    with pytest.raises(Unauthenticated):
        await app.jobs.create_job(owner("gone"), spec("again"))
