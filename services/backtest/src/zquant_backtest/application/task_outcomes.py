"""Every change of a task's state, each in its own unit of work with the row locked: the worker's (start,
progress, success, failure, retry) and the job queue's (a lost worker's last attempt, a deadline, a cancel).

A final state is never left, so whichever process writes first wins and the others change nothing: one event
per task even when a worker and a follower both hear of its end.
"""

from __future__ import annotations

import datetime as dt

from zquant_backtest.application.result_metrics import headline_metrics
from zquant_backtest.application.task_events import completed, failed
from zquant_backtest.application.task_ports import Clock, TaskRecord
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_backtest.domain.simulation import BacktestResult
from zquant_backtest.domain.tasks import TaskState


class TaskOutcomes:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def start(self, task_id: str, attempt: int) -> TaskRecord | None:
        """The record moved to running for this attempt; None when it is gone or already final."""
        async with self._uow() as uow:
            record = await uow.tasks.get(task_id, for_update=True)
            if record is None or record.state.final:
                return None
            record.move(TaskState.RUNNING, self._clock.now())
            record.attempts, record.error = attempt, ""
            record.started_at = record.started_at or self._clock.now()
            await uow.tasks.save(record)
            await uow.commit()
            return record

    async def progress(self, task_id: str, percent: float, current: dt.date | None) -> None:
        async with self._uow() as uow:
            record = await uow.tasks.get(task_id, for_update=True)
            if record is None or record.state is not TaskState.RUNNING:
                return
            record.percent, record.current_date = percent, current
            await uow.tasks.save(record)
            await uow.commit()

    async def succeed(self, task_id: str, result: BacktestResult) -> bool:
        """Stores the result and emits the event; False (nothing stored) when the task ended meanwhile."""
        async with self._uow() as uow:
            record = await uow.tasks.get(task_id, for_update=True)
            if record is None or record.state.final:
                return False
            await uow.results.put(task_id, record.owner_id, result)
            record.fingerprint, record.rules_version = result.fingerprint, result.rules_version
            record.metrics, record.percent = headline_metrics(result), 100.0
            if result.dates.size:
                record.current_date = result.dates[-1].astype("datetime64[D]").item()
            now = self._clock.now()
            record.move(TaskState.SUCCEEDED, now)
            await uow.tasks.save(record)
            uow.emit(completed(record, now))
            await uow.commit()
            return True

    async def fail(self, task_id: str, reason: str, attempts: int | None = None) -> None:
        async with self._uow() as uow:
            record = await uow.tasks.get(task_id, for_update=True)
            if record is None or record.state.final:
                return
            now = self._clock.now()
            record.error = reason
            record.attempts = max(record.attempts, attempts or 0)
            record.move(TaskState.FAILED, now)
            await uow.tasks.save(record)
            uow.emit(failed(record, now))
            await uow.commit()

    async def requeue(self, task_id: str, reason: str) -> None:
        """A retry is coming: the attempt failed for a reason another attempt may not meet."""
        async with self._uow() as uow:
            record = await uow.tasks.get(task_id, for_update=True)
            if record is None or record.state is not TaskState.RUNNING:
                return
            record.error = reason
            record.move(TaskState.QUEUED, self._clock.now())
            await uow.tasks.save(record)
            await uow.commit()

    async def cancel(self, task_id: str, reason: str) -> TaskRecord | None:
        async with self._uow() as uow:
            record = await uow.tasks.get(task_id, for_update=True)
            if record is None or record.state.final:
                return record
            record.error = reason
            record.move(TaskState.CANCELLED, self._clock.now())
            await uow.tasks.save(record)
            await uow.commit()
            return record
