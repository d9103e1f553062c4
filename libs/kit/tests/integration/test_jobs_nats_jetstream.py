"""The JetStream job queue on the shared NATS: shared workers, redelivery from a dead worker, bounded
attempts, cancel, and heartbeats that keep a long job with one worker. ack_wait is 1 s to keep tests short."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from zquant_kit.jobs import Job, JobFailed, JobState, ProgressReporter
from zquant_kit.jobs.nats_jetstream import NatsJetStreamJobQueue
from zquant_kit.tasks import cancel_and_wait
from zquant_kit.testing.job_scenarios import cancel_running_and_queued, run_jobs

pytestmark = pytest.mark.integration

Handler = Callable[[Job, ProgressReporter], Awaitable[None]]
ACK_WAIT = 1.0


@pytest.fixture
async def connect(
    nats_namespace: dict[str, str],
) -> AsyncIterator[Callable[[], Awaitable[NatsJetStreamJobQueue]]]:
    """Opens job queues (one connection each, like separate worker processes) on a throw-away namespace."""
    async with AsyncExitStack() as stack:

        async def open_queue() -> NatsJetStreamJobQueue:
            queue = NatsJetStreamJobQueue(
                nats_namespace["url"],
                stream=nats_namespace["stream"],
                prefix=nats_namespace["prefix"],
                ack_wait_seconds=ACK_WAIT,
                retry_delay_seconds=0.05,
            )
            await queue.start()
            stack.push_async_callback(queue.close)
            return queue

        yield open_queue


async def _serve(queue: NatsJetStreamJobQueue, handler: Handler, concurrency: int = 1) -> asyncio.Task[None]:
    return asyncio.create_task(queue.serve("calc", handler, concurrency=concurrency))


async def test_two_workers_share_the_queue_and_each_job_runs_once(connect):
    submitter, worker_a, worker_b = await connect(), await connect(), await connect()
    ran: dict[str, list[str]] = {"a": [], "b": []}

    def handler_for(name: str) -> Handler:
        async def handler(job: Job, progress: ProgressReporter) -> None:
            await asyncio.sleep(0.02)
            await progress.report(100.0, "done")
            ran[name].append(job.id)

        return handler

    updates = await submitter.watch("calc")
    serving = [await _serve(worker_a, handler_for("a")), await _serve(worker_b, handler_for("b"))]
    job_ids = [f"job-{n}" for n in range(12)]
    for job_id in job_ids:
        await submitter.submit("calc", job_id.encode(), job_id=job_id)
    await submitter.submit("calc", b"again", job_id="job-0")
    seen = await updates.until_final(job_ids, timeout=5.0)
    for task in serving:
        await cancel_and_wait(task)
    assert sorted(ran["a"] + ran["b"]) == sorted(job_ids)
    assert ran["a"] and ran["b"]
    assert all(history[-1].state is JobState.SUCCEEDED for history in seen.values())
    assert [u.state for u in seen["job-0"]].count(JobState.QUEUED) == 1


async def test_a_job_of_a_dead_worker_is_redelivered_to_another_and_succeeds(connect):
    submitter, doomed, survivor = await connect(), await connect(), await connect()
    started = asyncio.Event()
    survivor_jobs: list[Job] = []

    async def stuck(job: Job, progress: ProgressReporter) -> None:
        started.set()
        await asyncio.sleep(60)

    async def works(job: Job, progress: ProgressReporter) -> None:
        survivor_jobs.append(job)

    updates = await submitter.watch("calc")
    dying = await _serve(doomed, stuck)
    await submitter.submit("calc", b"payload", job_id="j1", max_attempts=3)
    await asyncio.wait_for(started.wait(), 3.0)
    await cancel_and_wait(dying)
    await doomed.close()
    serving = await _serve(survivor, works)
    seen = await updates.until_final(["j1"], timeout=5.0)
    await cancel_and_wait(serving)
    # The server counts the lost delivery, unless it noticed the dead connection first and took it back.
    assert [job.payload for job in survivor_jobs] == [b"payload"]
    assert survivor_jobs[0].attempt in (1, 2)
    assert seen["j1"][-1].state is JobState.SUCCEEDED


async def test_attempts_are_bounded_then_a_failed_update_carries_the_reason(connect):
    submitter, worker = await connect(), await connect()
    attempts: list[int] = []

    async def handler(job: Job, progress: ProgressReporter) -> None:
        attempts.append(job.attempt)
        raise RuntimeError(f"crash {job.attempt}")

    seen = await run_jobs(submitter, worker, handler, {"j1": 2}, timeout=5.0)
    assert attempts == [1, 2]
    assert (seen["j1"][-1].state, seen["j1"][-1].attempt, seen["j1"][-1].reason) == (
        JobState.FAILED,
        2,
        "RuntimeError: crash 2",
    )


async def test_job_failed_fails_at_once_without_a_retry(connect):
    submitter, worker = await connect(), await connect()

    async def refuses(job: Job, progress: ProgressReporter) -> None:
        raise JobFailed("no such universe")

    seen = await run_jobs(submitter, worker, refuses, {"j2": 5}, timeout=5.0)
    assert (seen["j2"][-1].state, seen["j2"][-1].attempt, seen["j2"][-1].reason) == (
        JobState.FAILED,
        1,
        "no such universe",
    )


async def test_cancel_reaches_the_running_handler_and_a_queued_job_never_starts(connect):
    submitter, worker = await connect(), await connect()
    started, seen = await cancel_running_and_queued(submitter, worker, timeout=3.0)
    assert started == ["running"]
    assert (seen["running"][-1].state, seen["running"][-1].reason) == (
        JobState.CANCELLED,
        "cancelled on request",
    )
    assert (seen["queued"][-1].state, seen["queued"][-1].reason) == (
        JobState.CANCELLED,
        "cancelled before it started",
    )


async def test_heartbeats_keep_a_job_longer_than_ack_wait_with_its_worker(connect):
    submitter, worker_a, worker_b = await connect(), await connect(), await connect()
    deliveries: list[int] = []

    async def slow(job: Job, progress: ProgressReporter) -> None:
        deliveries.append(job.attempt)
        await asyncio.sleep(ACK_WAIT * 2.5)

    updates = await submitter.watch("calc")
    serving = [await _serve(worker_a, slow), await _serve(worker_b, slow)]
    await submitter.submit("calc", b"", job_id="long")
    seen = await updates.until_final(["long"], timeout=6.0)
    for task in serving:
        await cancel_and_wait(task)
    assert deliveries == [1]
    assert (seen["long"][-1].state, seen["long"][-1].attempt) == (JobState.SUCCEEDED, 1)
