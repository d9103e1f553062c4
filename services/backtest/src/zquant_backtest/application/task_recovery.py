"""The in-process queue forgets its jobs when the process stops: at start, every task the records show
unfinished is queued again (the queue deduplicates by task id), so none waits forever; one past its deadline
fails at once with `deadline passed before the job started`."""

from __future__ import annotations

from zquant_backtest.application.submission import QueuePolicy, queue_task
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_kit.jobs import JobQueue


async def resubmit_unfinished(uow: UnitOfWorkFactory, queue: JobQueue, policy: QueuePolicy) -> int:
    async with uow() as work:
        unfinished = list(await work.tasks.unfinished())
    for record in unfinished:
        await queue_task(queue, record, policy)
    return len(unfinished)
