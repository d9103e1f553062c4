"""identity.user.deleted.v1: that user's strategies, tasks, results and reports go in one transaction, once
per event (claimed under the consumer's name); their unfinished tasks' jobs are cancelled after the commit."""

from __future__ import annotations

from zquant.identity.v1 import events_pb2
from zquant_backtest.application.unit_of_work_ports import UnitOfWorkFactory
from zquant_kit.events.model import Event
from zquant_kit.jobs import JobQueue

USER_DELETED = "identity.user.deleted.v1"
CONSUMER = "backtest-user-cleanup"


class UserCleanup:
    def __init__(self, uow: UnitOfWorkFactory, queue: JobQueue) -> None:
        self._uow = uow
        self._queue = queue

    async def on_user_deleted(self, event: Event) -> None:
        user_id = event.decode(events_pb2.UserDeletedEvent).user_id
        async with self._uow() as uow:
            if not await uow.claim(CONSUMER, event.id):
                return
            owned = list(await uow.tasks.list_owned(user_id)) if user_id else []
            if user_id:
                await uow.results.delete_owned(user_id)
                await uow.reports.delete_owned(user_id)
                for record in owned:
                    await uow.tasks.delete(record.id)
                await uow.strategies.delete_owned(user_id)
            await uow.commit()
        for record in owned:
            if not record.state.final:
                await self._queue.cancel(record.id)
