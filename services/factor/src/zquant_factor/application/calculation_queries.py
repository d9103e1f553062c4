"""Reading, listing and cancelling calculation jobs, and removing a deleted user's jobs.

A job is its owner's: another user's job is NOT_FOUND, as for private factors; holders of `factor:admin` see
and cancel every job. Cancelling marks the record first, so a job the queue has not started yet never runs.
"""

from __future__ import annotations

import datetime as dt

from zquant.identity.v1 import events_pb2
from zquant_factor.application.calculation_ports import (
    CalculationRecord,
    CalculationRepository,
    CalculationUnitOfWorkFactory,
)
from zquant_factor.application.definition_access import READ_PERMISSION, is_admin
from zquant_factor.application.definition_ports import Clock
from zquant_kit.clock import as_utc
from zquant_kit.errors import NotFound, required
from zquant_kit.events.model import Event
from zquant_kit.jobs import JobQueue, JobState
from zquant_kit.pagination import Cursor, Page, fetch_page, page_size, pair_cursor
from zquant_kit.principal import Principal

# The time must parse here, or the repository's query would fail later.
CALCULATIONS_CURSOR: Cursor[CalculationRecord, tuple[str, str]] = pair_cursor(
    "calculations", lambda r: (as_utc(r.created_at).isoformat(), r.id), dt.datetime.fromisoformat
)
USER_JOBS_CONSUMER = "factor-user-jobs-cleanup"


class CalculationQueries:
    def __init__(self, uow: CalculationUnitOfWorkFactory, queue: JobQueue, clock: Clock) -> None:
        self._uow = uow
        self._queue = queue
        self._clock = clock

    async def get(self, actor: Principal, job_id: str) -> CalculationRecord:
        actor.require(READ_PERMISSION)
        async with self._uow() as uow:
            return await self._visible(uow.calculations, actor, job_id)

    async def list(
        self, actor: Principal, requested_size: int, page_token: str
    ) -> tuple[Page[CalculationRecord], str]:
        actor.require(READ_PERMISSION)
        limit = page_size(requested_size)
        after = CALCULATIONS_CURSOR.after(page_token)
        owner = None if is_admin(actor) else actor.user_id
        async with self._uow() as uow:
            page = await fetch_page(lambda n: uow.calculations.list_page(owner, after, n), limit)
        return page, CALCULATIONS_CURSOR.next_token(page)

    async def cancel(self, actor: Principal, job_id: str) -> CalculationRecord:
        actor.require(READ_PERMISSION)
        async with self._uow() as uow:
            record = await self._visible(uow.calculations, actor, job_id)
            if record.state.final:
                return record
            record.state, record.finished_at = JobState.CANCELLED, self._clock.now()
            record.message = "cancelled on request"
            await uow.commit()
        await self._queue.cancel(job_id)
        return record

    async def on_user_deleted(self, event: Event) -> None:
        """identity.user.deleted.v1, once per event: the user's running jobs are cancelled, all their records go."""
        message = event.decode(events_pb2.UserDeletedEvent)
        async with self._uow() as uow:
            if not await uow.claim(USER_JOBS_CONSUMER, event.id):
                return
            owned = list(await uow.calculations.list_owned(message.user_id)) if message.user_id else []
            for record in owned:
                await uow.calculations.delete(record)
            await uow.commit()
        for record in owned:
            if not record.state.final:
                await self._queue.cancel(record.id)

    @staticmethod
    async def _visible(
        calculations: CalculationRepository, actor: Principal, job_id: str
    ) -> CalculationRecord:
        record = await calculations.get(required(job_id, "job_id"))
        if record is None or not (is_admin(actor) or record.owner_id == actor.user_id):
            raise NotFound("calculation", job_id)
        return record
