"""One attempt of a job, the same in every adapter: running update, handler under the job's deadline and
cancel, then the outcome (succeeded, failed, cancelled, or queued again for a retry) as an update."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from zquant_kit.jobs.model import (
    Job,
    JobFailed,
    JobHandler,
    JobState,
    JobUpdate,
    ProgressReporter,
    failure_reason,
)

log = logging.getLogger(__name__)

UpdateSink = Callable[[JobUpdate], Awaitable[None]]


def update_of(job: Job, state: JobState, reason: str = "") -> JobUpdate:
    return JobUpdate(job_id=job.id, kind=job.kind, state=state, attempt=job.attempt, reason=reason)


class Progress(ProgressReporter):
    def __init__(self, job: Job, publish: UpdateSink) -> None:
        self._job = job
        self._publish = publish

    async def report(self, percent: float, message: str = "") -> None:
        if not 0.0 <= percent <= 100.0:
            raise ValueError(f"progress percent must be in [0, 100], got {percent}")
        job = self._job
        await self._publish(
            JobUpdate(job.id, job.kind, JobState.RUNNING, job.attempt, float(percent), message)
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """`state` QUEUED means "retry": the adapter hands the job back to its transport."""

    state: JobState
    reason: str = ""


def _loop_time(deadline: dt.datetime | None) -> float | None:
    if deadline is None:
        return None
    remaining = (deadline - dt.datetime.now(dt.UTC)).total_seconds()
    return asyncio.get_running_loop().time() + remaining


class RunningJobs:
    """The task running each job on this worker, so a cancel request can reach it, and the recent
    cancels of jobs not running here, so such a job does not start when it gets here."""

    def __init__(self, remembered_cancels: int = 10_000) -> None:
        self._tasks: dict[str, asyncio.Task[object]] = {}
        self._cancelled: set[str] = set()
        self._pending: dict[str, None] = {}
        self._remembered = remembered_cancels

    def cancel(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is None:
            self._pending[job_id] = None
            if len(self._pending) > self._remembered:
                del self._pending[next(iter(self._pending))]
            return
        self._cancelled.add(job_id)
        task.cancel()

    async def attempt(self, job: Job, handler: JobHandler, publish: UpdateSink) -> Outcome:
        """Runs one attempt in the current task and publishes its updates. A cancel of the current task
        that is not a job cancel (the worker shutting down) propagates, and nothing more is published."""
        if job.id in self._pending:
            del self._pending[job.id]
            outcome = Outcome(JobState.CANCELLED, "cancelled before it started")
        else:
            outcome = await self._run(job, handler, publish)
        await publish(update_of(job, outcome.state, outcome.reason))
        return outcome

    async def _run(self, job: Job, handler: JobHandler, publish: UpdateSink) -> Outcome:
        task = asyncio.current_task()
        assert task is not None
        self._tasks[job.id] = task
        scope = asyncio.timeout_at(_loop_time(job.deadline))
        try:
            deadline = scope.when()
            if deadline is not None and deadline <= asyncio.get_running_loop().time():
                return Outcome(JobState.FAILED, "deadline passed before the job started")
            await publish(update_of(job, JobState.RUNNING))
            async with scope:
                await handler(job, Progress(job, publish))
        except asyncio.CancelledError:
            if job.id not in self._cancelled:
                raise
            task.uncancel()
            return Outcome(JobState.CANCELLED, "cancelled on request")
        except JobFailed as exc:
            return Outcome(JobState.FAILED, exc.reason)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and scope.expired():
                return Outcome(JobState.FAILED, "deadline exceeded")
            log.warning("job %s (%s) attempt %d failed: %r", job.id, job.kind, job.attempt, exc)
            return Outcome(JobState.FAILED if job.last_attempt else JobState.QUEUED, failure_reason(exc))
        finally:
            self._tasks.pop(job.id, None)
            self._cancelled.discard(job.id)
        return Outcome(JobState.SUCCEEDED)


def retry_delay(attempt: int, base_seconds: float) -> float:
    """Exponential back-off between attempts, capped at 30 s."""
    return float(min(base_seconds * 2 ** (attempt - 1), 30.0))
