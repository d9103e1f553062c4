"""A task through the worker and the queue: success with its stored result and event, a refused run, retries
bounded by max_attempts, cancel, a lost worker's verdict, progress, and reproducibility."""

from __future__ import annotations

import asyncio
import datetime as dt
import struct

import pytest

from services.backtest.tests.fakes.executors import FAIL_MARKER, SlowExecutor
from services.backtest.tests.unit.service.world import ALICE, CODE, request, running
from zquant.backtest.v1 import events_pb2
from zquant_backtest.application.run_ports import RunExecutor, RunProgress, RunSpec
from zquant_backtest.application.submission import QueuePolicy
from zquant_backtest.application.task_events import COMPLETED, FAILED
from zquant_backtest.application.task_follower import TaskFollower
from zquant_backtest.application.task_recovery import resubmit_unfinished
from zquant_backtest.domain.simulation import BacktestResult
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.jobs import JobState, JobUpdate

pytestmark = pytest.mark.unit


def _bits(metrics) -> dict[str, bytes]:
    return {name: struct.pack("<d", value) for name, value in metrics.items()}


class FlakyExecutor(RunExecutor):
    """Raises an unexpected error on every attempt (a crash the queue retries)."""

    def __init__(self) -> None:
        self.attempts = 0

    async def execute(self, spec: RunSpec, progress: RunProgress) -> BacktestResult:
        self.attempts += 1
        raise OSError("panel read failed")


async def test_a_succeeded_task_stores_its_result_and_emits_completed():
    async with running() as world:
        task = await world.submission.submit(ALICE, request())
        final = await world.until_final(task.id)
        assert final.state is TaskState.SUCCEEDED and final.percent == 100.0 and final.attempts == 1
        record, result = await world.results.result(ALICE, task.id)
        assert result.fingerprint == record.fingerprint and record.rules_version
        assert record.metrics["total_return"] == result.performance.total_return
        (event,) = world.database.events_of(COMPLETED)
        message = event.decode(events_pb2.BacktestCompletedEvent)
        assert message.task_id == task.id and message.owner_id == ALICE.user_id
        assert message.sharpe == result.performance.sharpe
        assert not world.database.events_of(FAILED)


async def test_a_refused_run_fails_at_once_with_its_reason_and_one_event():
    async with running() as world:
        task = await world.submission.submit(ALICE, request(code=CODE + FAIL_MARKER + "\n"))
        final = await world.until_final(task.id)
        assert final.state is TaskState.FAILED and "ZeroDivisionError" in final.error and final.attempts == 1
        (event,) = world.database.events_of(FAILED)
        assert "ZeroDivisionError" in event.decode(events_pb2.BacktestFailedEvent).reason


async def test_crashes_are_retried_up_to_max_attempts_then_failed():
    flaky = FlakyExecutor()
    async with running(flaky, policy=QueuePolicy(max_attempts=2)) as world:
        task = await world.submission.submit(ALICE, request())
        final = await world.until_final(task.id)
    assert flaky.attempts == 2
    assert final.state is TaskState.FAILED and final.attempts == 2 and "panel read failed" in final.error
    assert len(world.database.events_of(FAILED)) == 1


async def test_cancel_stops_a_running_task_and_emits_nothing():
    slow = SlowExecutor(steps=200, step=0.02)
    async with running(slow) as world:
        task = await world.submission.submit(ALICE, request())
        await asyncio.wait_for(slow.started.wait(), 5)
        cancelled = await world.queries.cancel(ALICE, task.id)
        assert cancelled.state is TaskState.CANCELLED
        await asyncio.sleep(0.1)
        assert world.task(task.id).state is TaskState.CANCELLED
    assert not world.database.events_of(COMPLETED) and not world.database.events_of(FAILED)
    assert not world.database.store.results


async def test_progress_reaches_the_record_while_running():
    slow = SlowExecutor(steps=10, step=0.03)
    async with running(slow) as world:
        task = await world.submission.submit(ALICE, request())
        await asyncio.wait_for(slow.started.wait(), 5)
        await asyncio.sleep(0.15)
        now = world.task(task.id)
        assert now.state is TaskState.RUNNING and 0 < now.percent < 100 and now.current_date is not None
        assert (await world.until_final(task.id)).state is TaskState.SUCCEEDED


async def test_the_queues_verdict_on_a_lost_worker_fails_a_running_task_once():
    """A worker killed on the last attempt never reports: the queue's FAILED update is what ends the task."""
    async with running(SlowExecutor(steps=500, step=0.02)) as world:
        task = await world.submission.submit(ALICE, request())
        await world.outcomes.start(task.id, 3)
        lost = JobUpdate(
            task.id, "backtest_run", JobState.FAILED, 4, reason="worker lost during the last of 3 attempts"
        )
        follower = TaskFollower(world.outcomes)
        await follower.apply(lost)
        await follower.apply(lost)
        final = world.task(task.id)
        assert final.state is TaskState.FAILED and final.error.startswith("worker lost")
        assert len(world.database.events_of(FAILED)) == 1


async def test_rerunning_the_same_inputs_reproduces_identical_metrics():
    async with running() as world:
        first = await world.submission.submit(ALICE, request())
        second = await world.submission.submit(ALICE, request())
        changed = await world.submission.submit(ALICE, request(initial_cash=2_000_000.0))
        for task in (first, second, changed):
            await world.until_final(task.id)
        same = await world.results.compare(ALICE, first.id, second.id)
        assert same.same_fingerprint
        assert _bits(same.first.metrics) == _bits(same.second.metrics), "identical to the bit, NaNs included"
        assert all(not d.field.startswith("metrics.") for d in same.differences)
        other = await world.results.compare(ALICE, first.id, changed.id)
        fields = {d.field for d in other.differences}
        assert (
            "fingerprint" in fields
            and "config.initial_cash" in fields
            and "metrics.total_costs" not in fields
        )


async def test_unfinished_tasks_are_queued_again_after_a_restart_of_the_in_process_queue():
    """The all-in-one queue forgets its jobs with the process: the records bring them back at start."""
    async with running() as before:
        queued = await before.submission.submit(ALICE, request())
    database = before.database
    database.store.tasks[queued.id].state = TaskState.RUNNING
    async with running(database=database) as after:
        assert await resubmit_unfinished(after.uow, after.queue, QueuePolicy()) == 1
        assert (await after.until_final(queued.id)).state is TaskState.SUCCEEDED


async def test_a_task_past_its_deadline_fails_with_the_reason():
    async with running(SlowExecutor(steps=500, step=0.02), policy=QueuePolicy(timeout_seconds=0.5)) as world:
        world.clock.current = dt.datetime.now(dt.UTC)
        task = await world.submission.submit(ALICE, request())
        final = await world.until_final(task.id)
    assert final.state is TaskState.FAILED and final.error == "deadline exceeded"
