"""Scenarios every `JobQueue` adapter must pass, run by each adapter's tests with its own queues and timeouts."""

from __future__ import annotations

import asyncio
import datetime as dt

from zquant_kit.jobs.model import Job, JobHandler, JobUpdate, ProgressReporter
from zquant_kit.jobs.port import JobQueue
from zquant_kit.tasks import cancel_and_wait


async def run_jobs(
    submitter: JobQueue,
    worker: JobQueue,
    handler: JobHandler,
    jobs: dict[str, int],
    *,
    timeout: float,
    concurrency: int = 1,
    deadline: dt.datetime | None = None,
) -> dict[str, list[JobUpdate]]:
    """Submits `jobs` (id → max attempts; the payload is the id) of kind "calc" through `submitter` while
    `worker` serves them with `handler`; returns each job's updates once all are final."""
    updates = await submitter.watch("calc")
    serving = asyncio.create_task(worker.serve("calc", handler, concurrency=concurrency))
    try:
        for job_id, attempts in jobs.items():
            await submitter.submit(
                "calc", job_id.encode(), job_id=job_id, max_attempts=attempts, deadline=deadline
            )
        return await updates.until_final(jobs, timeout=timeout)
    finally:
        await cancel_and_wait(serving)
        await updates.close()


async def cancel_running_and_queued(
    submitter: JobQueue, worker: JobQueue, timeout: float
) -> tuple[list[str], dict[str, list[JobUpdate]]]:
    """Submits jobs "running" and "queued" (kind "calc") to `worker` serving one at a time with a handler that
    blocks, cancels both once "running" has started; returns the ids that started and each job's updates."""
    started: list[str] = []
    running = asyncio.Event()

    async def handler(job: Job, progress: ProgressReporter) -> None:
        started.append(job.id)
        running.set()
        await asyncio.sleep(60)

    updates = await submitter.watch("calc")
    serving = asyncio.create_task(worker.serve("calc", handler, concurrency=1))
    try:
        await submitter.submit("calc", b"", job_id="running")
        await submitter.submit("calc", b"", job_id="queued")
        await asyncio.wait_for(running.wait(), timeout)
        await submitter.cancel("queued")
        await submitter.cancel("running")
        seen = await updates.until_final(["running", "queued"], timeout=2 * timeout)
    finally:
        await cancel_and_wait(serving)
    return started, seen
