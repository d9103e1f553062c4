"""The in-process queue forgets its jobs when the process stops: at start, every task the records show
unfinished is queued again (the queue deduplicates by task id), so none waits forever."""

from __future__ import annotations

from zquant_backtest.application.submission import JOB_KIND, payload_of
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_kit.jobs import JobQueue


async def resubmit_unfinished(uow: UnitOfWorkFactory, queue: JobQueue, max_attempts: int) -> int:
    async with uow() as work:
        unfinished = list(await work.tasks.unfinished())
    for record in unfinished:
        await queue.submit(JOB_KIND, payload_of(record.id), job_id=record.id, max_attempts=max_attempts)
    return len(unfinished)
