"""Reading, listing, cancelling and deleting tasks. A task is its owner's (another user's is NOT_FOUND); an
admin lists and reaches every task. Cancelling marks the record first, so a queued job never runs."""

from __future__ import annotations

import datetime as dt

from zquant_backtest.application.access import listing_owner, visible
from zquant_backtest.application.submission import RUN
from zquant_backtest.application.task_outcomes import TaskOutcomes
from zquant_backtest.application.task_ports import TaskRecord
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_backtest.domain.tasks import TaskState
from zquant_kit.clock import as_utc
from zquant_kit.errors import required
from zquant_kit.jobs import JobQueue
from zquant_kit.pagination import Cursor, Page, fetch_page, page_size, pair_cursor
from zquant_kit.principal import Principal

READ = "backtest:read"
DELETE = "backtest:delete"

# The time must parse here, or the repository's query would fail later.
TASKS_CURSOR: Cursor[TaskRecord, tuple[str, str]] = pair_cursor(
    "backtests", lambda r: (as_utc(r.created_at).isoformat(), r.id), dt.datetime.fromisoformat
)


class TaskQueries:
    def __init__(self, uow: UnitOfWorkFactory, outcomes: TaskOutcomes, queue: JobQueue) -> None:
        self._uow = uow
        self._outcomes = outcomes
        self._queue = queue

    async def get(self, actor: Principal, task_id: str) -> TaskRecord:
        actor.require(READ)
        async with self._uow() as uow:
            return visible(await uow.tasks.get(required(task_id, "task_id")), actor, "backtest", task_id)

    async def list(
        self, actor: Principal, requested_size: int, page_token: str, state: TaskState | None
    ) -> tuple[Page[TaskRecord], str]:
        actor.require(READ)
        limit = page_size(requested_size)
        after = TASKS_CURSOR.after(page_token)
        async with self._uow() as uow:
            page = await fetch_page(
                lambda n: uow.tasks.list_page(listing_owner(actor), state, after, n), limit
            )
        return page, TASKS_CURSOR.next_token(page)

    async def cancel(self, actor: Principal, task_id: str) -> TaskRecord:
        actor.require(RUN)
        record = await self.get(actor, task_id)
        if record.state.final:
            return record
        cancelled = await self._outcomes.cancel(record.id, "cancelled on request")
        await self._queue.cancel(record.id)
        return cancelled or record

    async def delete(self, actor: Principal, task_id: str) -> None:
        """The task, its result and its report; a task still running is cancelled first."""
        actor.require(DELETE)
        record = await self.get(actor, task_id)
        async with self._uow() as uow:
            await uow.results.delete(record.id)
            await uow.reports.delete(record.id)
            await uow.tasks.delete(record.id)
            await uow.commit()
        if not record.state.final:
            await self._queue.cancel(record.id)
