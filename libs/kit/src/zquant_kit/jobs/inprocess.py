"""The job queue for the all-in-one mode: asyncio queues and a bounded set of worker tasks, no broker.

Jobs live in memory: those queued or running when the process stops are gone, and the service resubmits
what its own records show unfinished. CPU-heavy handlers send their work to `WorkerProcesses`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict

from zquant_kit.jobs.model import Job, JobHandler, JobState, JobUpdate, check_kind
from zquant_kit.jobs.port import JobQueue
from zquant_kit.jobs.running import RunningJobs, retry_delay
from zquant_kit.jobs.updates import JobUpdates
from zquant_kit.tasks import cancel_and_wait


class InProcessJobQueue(JobQueue):
    def __init__(self, *, retry_delay_seconds: float = 1.0) -> None:
        self._queues: dict[str, asyncio.Queue[Job]] = defaultdict(asyncio.Queue)
        self._submitted: set[str] = set()
        self._running = RunningJobs()
        self._watchers: dict[str, list[JobUpdates]] = defaultdict(list)
        self._retry_delay = retry_delay_seconds
        self._retries: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for retry in list(self._retries):
            await cancel_and_wait(retry)
        for watchers in list(self._watchers.values()):
            for updates in list(watchers):
                await updates.close()

    async def _enqueue(self, job: Job) -> None:
        if job.id in self._submitted:
            return
        self._submitted.add(job.id)
        await self._publish(JobUpdate(job_id=job.id, kind=job.kind, state=JobState.QUEUED))
        self._queues[job.kind].put_nowait(job)

    async def _serve(self, kind: str, handler: JobHandler, concurrency: int) -> None:
        await asyncio.gather(*(self._work(kind, handler) for _ in range(concurrency)))

    async def _work(self, kind: str, handler: JobHandler) -> None:
        queue = self._queues[kind]
        while True:
            job = await queue.get()
            outcome = await self._running.attempt(job, handler, self._publish)
            if outcome.state is JobState.QUEUED:
                retry = asyncio.create_task(self._requeue_later(job))
                self._retries.add(retry)
                retry.add_done_callback(self._retries.discard)

    async def _requeue_later(self, job: Job) -> None:
        await asyncio.sleep(retry_delay(job.attempt, self._retry_delay))
        self._queues[job.kind].put_nowait(dataclasses.replace(job, attempt=job.attempt + 1))

    async def cancel(self, job_id: str) -> None:
        if job_id in self._submitted:
            self._running.cancel(job_id)

    async def watch(self, kind: str) -> JobUpdates:
        check_kind(kind)
        watchers = self._watchers[kind]

        async def forget() -> None:
            watchers.remove(updates)

        updates = JobUpdates(on_close=forget)
        watchers.append(updates)
        return updates

    async def _publish(self, update: JobUpdate) -> None:
        for updates in self._watchers[update.kind]:
            updates.push(update)
