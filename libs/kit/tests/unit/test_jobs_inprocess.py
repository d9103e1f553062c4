"""The in-process job queue: attempts, permanent failure, cancel, idempotent submit and progress order."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from zquant_kit.jobs import Job, JobFailed, JobState, JobUpdate, ProgressReporter
from zquant_kit.jobs.inprocess import InProcessJobQueue
from zquant_kit.tasks import cancel_and_wait
from zquant_kit.testing.job_scenarios import cancel_running_and_queued, run_jobs

pytestmark = pytest.mark.unit

Handler = Callable[[Job, ProgressReporter], Awaitable[None]]


@pytest.fixture
async def queue() -> AsyncIterator[InProcessJobQueue]:
    queue = InProcessJobQueue(retry_delay_seconds=0.01)
    await queue.start()
    yield queue
    await queue.close()


async def _run(
    queue: InProcessJobQueue, handler: Handler, jobs: dict[str, int], concurrency: int = 1
) -> dict[str, list[JobUpdate]]:
    """Submits `jobs` (id → max attempts) of kind "calc", serves them, returns each job's updates."""
    return await run_jobs(queue, queue, handler, jobs, timeout=2.0, concurrency=concurrency)


def _states(updates: list[JobUpdate]) -> list[tuple[JobState, int]]:
    return [(update.state, update.attempt) for update in updates]


async def test_a_job_succeeds_with_its_payload(queue):
    seen: list[Job] = []

    async def handler(job: Job, progress: ProgressReporter) -> None:
        seen.append(job)

    updates = await _run(queue, handler, {"j1": 3})
    assert _states(updates["j1"]) == [(JobState.QUEUED, 0), (JobState.RUNNING, 1), (JobState.SUCCEEDED, 1)]
    assert [(job.id, job.kind, job.payload, job.attempt, job.max_attempts) for job in seen] == [
        ("j1", "calc", b"j1", 1, 3)
    ]


async def test_a_failing_job_is_retried_until_it_succeeds(queue):
    async def handler(job: Job, progress: ProgressReporter) -> None:
        if job.attempt < 3:
            raise ConnectionError(f"marketdata unreachable on attempt {job.attempt}")

    updates = await _run(queue, handler, {"j1": 3})
    assert _states(updates["j1"])[1:] == [
        (JobState.RUNNING, 1),
        (JobState.QUEUED, 1),
        (JobState.RUNNING, 2),
        (JobState.QUEUED, 2),
        (JobState.RUNNING, 3),
        (JobState.SUCCEEDED, 3),
    ]
    assert updates["j1"][2].reason == "ConnectionError: marketdata unreachable on attempt 1"


@pytest.mark.parametrize(
    ("error", "max_attempts", "tried", "reason"),
    [
        (RuntimeError("out of memory"), 2, [1, 2], "RuntimeError: out of memory"),
        (JobFailed("unknown factor 'macd2'"), 5, [1], "unknown factor 'macd2'"),
    ],
    ids=["attempts_are_bounded_then_the_job_fails_with_the_reason", "job_failed_is_not_retried"],
)
async def test_a_failing_job_is_retried_unless_job_failed_then_fails_with_the_reason(
    queue, error, max_attempts, tried, reason
):
    attempts: list[int] = []

    async def handler(job: Job, progress: ProgressReporter) -> None:
        attempts.append(job.attempt)
        raise error

    updates = await _run(queue, handler, {"j1": max_attempts})
    assert attempts == tried
    final = updates["j1"][-1]
    assert (final.state, final.attempt, final.reason) == (JobState.FAILED, tried[-1], reason)


async def test_cancel_stops_a_running_job_and_a_queued_one_never_starts(queue):
    started, seen = await cancel_running_and_queued(queue, queue, timeout=1.0)
    assert started == ["running"]
    assert (seen["running"][-1].state, seen["running"][-1].reason) == (
        JobState.CANCELLED,
        "cancelled on request",
    )
    assert _states(seen["queued"]) == [(JobState.QUEUED, 0), (JobState.CANCELLED, 1)]


async def test_the_same_job_id_submitted_twice_queues_once(queue):
    runs: list[bytes] = []

    async def handler(job: Job, progress: ProgressReporter) -> None:
        runs.append(job.payload)

    updates = await queue.watch("calc")
    await queue.submit("calc", b"first", job_id="j1")
    await queue.submit("calc", b"second", job_id="j1")
    worker = asyncio.create_task(queue.serve("calc", handler))
    seen = await updates.until_final(["j1"], timeout=2.0)
    await asyncio.sleep(0.05)
    await cancel_and_wait(worker)
    assert runs == [b"first"]
    assert [update.state for update in seen["j1"]].count(JobState.QUEUED) == 1


async def test_progress_updates_arrive_in_order_between_running_and_succeeded(queue):
    async def handler(job: Job, progress: ProgressReporter) -> None:
        for step in range(1, 5):
            await progress.report(step * 25.0, f"batch {step} of 4")
            await asyncio.sleep(0)

    updates = await _run(queue, handler, {"j1": 1})
    running = [(u.percent, u.message) for u in updates["j1"] if u.state is JobState.RUNNING]
    assert running == [
        (None, ""),
        (25.0, "batch 1 of 4"),
        (50.0, "batch 2 of 4"),
        (75.0, "batch 3 of 4"),
        (100.0, "batch 4 of 4"),
    ]
    assert updates["j1"][-1].state is JobState.SUCCEEDED


async def test_concurrency_bounds_the_jobs_running_at_once(queue):
    active = peak = 0

    async def handler(job: Job, progress: ProgressReporter) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.02)
        active -= 1

    updates = await _run(queue, handler, {f"j{n}": 1 for n in range(6)}, concurrency=2)
    assert all(seen[-1].state is JobState.SUCCEEDED for seen in updates.values())
    assert peak == 2


async def test_a_job_past_its_deadline_fails(queue):
    async def handler(job: Job, progress: ProgressReporter) -> None:
        await asyncio.sleep(30)

    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.1)
    seen = await run_jobs(queue, queue, handler, {"j1": 3}, timeout=2.0, deadline=deadline)
    assert (seen["j1"][-1].state, seen["j1"][-1].attempt, seen["j1"][-1].reason) == (
        JobState.FAILED,
        1,
        "deadline exceeded",
    )


async def test_bad_submissions_and_progress_are_refused(queue):
    with pytest.raises(ValueError, match="job kind"):
        await queue.submit("Calc.x", b"", job_id="j1")
    with pytest.raises(ValueError, match="job id"):
        await queue.submit("calc", b"", job_id="a.b")
    with pytest.raises(ValueError, match="max_attempts"):
        await queue.submit("calc", b"", job_id="j1", max_attempts=0)

    async def handler(job: Job, progress: ProgressReporter) -> None:
        await progress.report(101.0)

    updates = await _run(queue, handler, {"j2": 1})
    assert updates["j2"][-1].reason == "ValueError: progress percent must be in [0, 100], got 101.0"


def test_an_update_survives_its_wire_encoding():
    update = JobUpdate("j1", "calc", JobState.RUNNING, attempt=2, percent=12.5, message="步骤 1", reason="")
    assert JobUpdate.decode(update.encode()) == update


async def test_a_job_cancelled_while_waiting_for_its_retry_does_not_run_again():
    queue = InProcessJobQueue(retry_delay_seconds=0.2)
    attempts: list[int] = []

    async def handler(job: Job, progress: ProgressReporter) -> None:
        attempts.append(job.attempt)
        raise ConnectionError("flaky")

    updates = await queue.watch("calc")
    worker = asyncio.create_task(queue.serve("calc", handler))
    await queue.submit("calc", b"", job_id="j1", max_attempts=3)
    retry = await updates.next(timeout=1.0)
    while retry.state is not JobState.QUEUED or retry.attempt != 1:
        retry = await updates.next(timeout=1.0)
    await queue.cancel("j1")
    seen = await updates.until_final(["j1"], timeout=2.0)
    await cancel_and_wait(worker)
    await queue.close()
    assert attempts == [1]
    assert (seen["j1"][-1].state, seen["j1"][-1].attempt) == (JobState.CANCELLED, 2)


async def test_a_job_whose_deadline_passed_before_it_started_never_runs(queue):
    ran: list[str] = []

    async def handler(job: Job, progress: ProgressReporter) -> None:
        ran.append(job.id)

    updates = await queue.watch("calc")
    worker = asyncio.create_task(queue.serve("calc", handler))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await queue.submit("calc", b"", job_id="late", deadline=past)
    seen = await updates.until_final(["late"], timeout=2.0)
    await cancel_and_wait(worker)
    assert ran == []
    assert _states(seen["late"]) == [(JobState.QUEUED, 0), (JobState.FAILED, 1)]
    assert seen["late"][-1].reason == "deadline passed before the job started"


async def test_closing_the_queue_ends_its_update_streams():
    queue = InProcessJobQueue()
    updates = await queue.watch("calc")
    await queue.close()
    assert [update async for update in updates] == []
