"""The job-queue port: services submit, serve, cancel and watch jobs without knowing the transport."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from zquant_kit.jobs.model import Job, JobHandler, check_kind, check_submission
from zquant_kit.jobs.updates import JobUpdates


class JobQueue(Protocol):
    """Adapters subclass it and implement `_enqueue` and `_serve`; `submit` and `serve` check arguments first."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def submit(
        self,
        kind: str,
        payload: bytes,
        *,
        job_id: str,
        max_attempts: int = 3,
        deadline: dt.datetime | None = None,
    ) -> None:
        """Queues a job. `job_id` is the caller's idempotency key: the same id submitted again queues once."""
        check_kind(kind)
        check_submission(job_id, max_attempts, deadline)
        await self._enqueue(Job(job_id, kind, payload, 1, max_attempts, deadline))

    async def _enqueue(self, job: Job) -> None:
        """Queues a checked job, on its first attempt, unless its id was queued before."""
        ...

    async def serve(self, kind: str, handler: JobHandler, *, concurrency: int = 1) -> None:
        """Runs jobs of `kind` through `handler`, at most `concurrency` at a time, until cancelled.

        Success acks the job; `JobFailed` fails it at once; any other exception retries it until
        `max_attempts`, then fails it with that exception as the reason."""
        check_kind(kind)
        if concurrency < 1:
            raise ValueError(f"concurrency must be ≥ 1, got {concurrency}")
        await self._serve(kind, handler, concurrency)

    async def _serve(self, kind: str, handler: JobHandler, concurrency: int) -> None:
        """`serve` with checked arguments."""
        ...

    async def cancel(self, job_id: str) -> None:
        """A running handler of the job is cancelled (asyncio) wherever it runs; a queued one never starts."""
        ...

    async def watch(self, kind: str) -> JobUpdates:
        """Updates of every job of `kind` from now on; open it before submitting to miss none."""
        ...
