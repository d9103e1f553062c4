"""Task records follow the job queue's own verdicts, heard on its update stream by every service process.

The worker records what it sees itself; the queue alone knows when a job ended without its handler: a worker
lost on the last attempt (`worker lost during the last of N attempts`), a deadline passed, a cancel that came
before the job started. Each moves the record only if it is not final yet, so a task is never left running.
"""

from __future__ import annotations

import logging

from zquant_backtest.application.task_outcomes import TaskOutcomes
from zquant_kit.jobs import JobState, JobUpdate, JobUpdates

log = logging.getLogger(__name__)


class TaskFollower:
    def __init__(self, outcomes: TaskOutcomes) -> None:
        self._outcomes = outcomes

    async def apply(self, update: JobUpdate) -> None:
        if update.state is JobState.FAILED:
            await self._outcomes.fail(update.job_id, update.reason or "failed", update.attempt)
        elif update.state is JobState.CANCELLED:
            await self._outcomes.cancel(update.job_id, update.reason or "cancelled")

    async def follow(self, updates: JobUpdates) -> None:
        """Until the stream closes; one bad update (a vanished row, a database hiccup) does not stop it."""
        async for update in updates:
            try:
                await self.apply(update)
            except Exception:
                log.exception("backtest task %s: could not apply job update %s", update.job_id, update.state)
