"""The job queue's handler: one attempt of one task, on whichever backtest worker pulled it.

The payload is the task id (JSON); the record holds the inputs. The executor runs the engine and the sandbox;
its `RunFailed` fails the task at once with the reason, any other error is retried until the job's last
attempt. Progress goes to the queue's watchers on every report and to the record at most every
`progress_seconds`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from zquant_backtest.application.run_ports import RunExecutor, RunFailed, RunProgress, RunSpec, StrategyCode
from zquant_backtest.application.submission import task_id_of
from zquant_backtest.application.task_outcomes import TaskOutcomes
from zquant_kit.jobs import Job, JobFailed, ProgressReporter

log = logging.getLogger(__name__)


class _Progress(RunProgress):
    def __init__(self, task_id: str, outcomes: TaskOutcomes, queue: ProgressReporter, every: float) -> None:
        self._task_id = task_id
        self._outcomes = outcomes
        self._queue = queue
        self._every = every
        self._written = -float("inf")

    async def report(self, percent: float, current: dt.date | None) -> None:
        percent = min(100.0, max(0.0, float(percent)))
        await self._queue.report(percent, current.strftime("%Y%m%d") if current else "")
        now = asyncio.get_running_loop().time()
        if now - self._written >= self._every:
            self._written = now
            await self._outcomes.progress(self._task_id, percent, current)


class TaskWorker:
    def __init__(self, outcomes: TaskOutcomes, executor: RunExecutor, progress_seconds: float = 0.5) -> None:
        self._outcomes = outcomes
        self._executor = executor
        self._progress_seconds = progress_seconds

    async def handle(self, job: Job, progress: ProgressReporter) -> None:
        try:
            task_id = task_id_of(job.payload)
        except ValueError as exc:
            raise JobFailed(f"malformed backtest job payload: {exc}") from exc
        record = await self._outcomes.start(task_id, job.attempt)
        if record is None:
            return
        spec = RunSpec(
            task_id=record.id,
            owner_id=record.owner_id,
            strategy=StrategyCode(record.code, record.params_schema),
            config=record.config,
            data_version=record.data_version,
        )
        reporter = _Progress(task_id, self._outcomes, progress, self._progress_seconds)
        try:
            result = await self._executor.execute(spec, reporter)
        except RunFailed as exc:
            await self._outcomes.fail(task_id, exc.reason, job.attempt)
            raise JobFailed(exc.reason) from exc
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning(
                "backtest %s attempt %d of %d failed: %s", task_id, job.attempt, job.max_attempts, reason
            )
            if job.last_attempt:
                await self._outcomes.fail(task_id, reason, job.attempt)
                raise JobFailed(reason) from exc
            await self._outcomes.requeue(task_id, reason)
            raise
        await self._outcomes.succeed(task_id, result)
