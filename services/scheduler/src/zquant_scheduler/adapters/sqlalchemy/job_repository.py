"""Jobs on SQLAlchemy Core. `claim_due` locks with `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite (one process,
the all-in-one mode) compiles the same statement without the lock clause, its writes being serial anyway."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_kit.errors import AlreadyExists
from zquant_kit.persistence.tombstones import DeletedUserRows
from zquant_scheduler.adapters.sqlalchemy import tables as t
from zquant_scheduler.adapters.sqlalchemy.bulk import update_column
from zquant_scheduler.adapters.sqlalchemy.rows import job_of, job_row
from zquant_scheduler.application.job_ports import DeletedUsers, JobRepository
from zquant_scheduler.domain.jobs import Job

c = t.jobs.c


class SqlAlchemyJobRepository(JobRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, job: Job) -> None:
        try:
            await self._s.execute(t.jobs.insert().values(**job_row(job)))
        except IntegrityError:  # a concurrent create of the same name committed first
            raise AlreadyExists("job", job.name, "name") from None

    async def get(self, job_id: str) -> Job | None:
        row = (await self._s.execute(select(t.jobs).where(c.id == job_id))).mappings().first()
        return job_of(row) if row else None

    async def get_many(self, job_ids: Sequence[str]) -> dict[str, Job]:
        rows = (await self._s.execute(select(t.jobs).where(c.id.in_(set(job_ids))))).mappings().all()
        return {row["id"]: job_of(row) for row in rows}

    async def name_taken(self, owner_id: str, name: str, other_than: str | None) -> bool:
        query = select(c.id).where(c.owner_id == owner_id, c.name == name)
        if other_than is not None:
            query = query.where(c.id != other_than)
        return (await self._s.execute(query.limit(1))).first() is not None

    async def save(self, job: Job) -> None:
        try:
            await self._s.execute(update(t.jobs).where(c.id == job.id).values(**job_row(job)))
        except IntegrityError:
            raise AlreadyExists("job", job.name, "name") from None

    async def delete(self, job_id: str) -> None:
        await self._s.execute(delete(t.jobs).where(c.id == job_id))

    async def list_jobs(self, owner_id: str | None, after: tuple[str, str] | None, limit: int) -> Sequence[Job]:
        query = select(t.jobs).order_by(c.name, c.id).limit(limit)
        if owner_id is not None:
            query = query.where(c.owner_id == owner_id)
        if after is not None:
            query = query.where(tuple_(c.name, c.id) > tuple_(*after))
        return [job_of(row) for row in (await self._s.execute(query)).mappings()]

    async def delete_owned(self, owner_id: str) -> int:
        result = await self._s.execute(delete(t.jobs).where(c.owner_id == owner_id).returning(c.id))
        return len(result.all())

    async def claim_due(self, now: dt.datetime, limit: int) -> Sequence[Job]:
        query = (
            select(t.jobs)
            .where(c.next_run_at <= now, c.enabled.is_(True), c.paused.is_(False))
            .order_by(c.next_run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [job_of(row) for row in (await self._s.execute(query)).mappings()]

    async def set_next_runs(self, next_runs: Mapping[str, dt.datetime | None]) -> None:
        await update_column(self._s, t.jobs, "next_run_at", next_runs)


class SqlAlchemyDeletedUsers(DeletedUserRows, DeletedUsers):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, t.deleted_users)

    async def add(self, user_id: str) -> None:
        await self.mark(user_id, dt.datetime.now(dt.UTC))
