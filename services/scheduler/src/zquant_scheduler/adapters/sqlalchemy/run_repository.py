"""Runs and attempts on SQLAlchemy Core: inserts that skip an existing (job, scheduled time), leases, history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_scheduler.adapters.sqlalchemy import tables as t
from zquant_scheduler.adapters.sqlalchemy.bulk import insert_all, insert_new, update_rows
from zquant_scheduler.adapters.sqlalchemy.rows import attempt_of, attempt_row, run_of, run_row
from zquant_scheduler.application.job_ports import Lease, RunFilter, RunRepository
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus

c = t.runs.c
_UNENDED = (RunStatus.PENDING.value, RunStatus.RUNNING.value)


class SqlAlchemyRunRepository(RunRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_new(self, runs: Sequence[Run], lease: Lease | None) -> list[Run]:
        rows = [run_row(run, lease) for run in runs]
        inserted = await insert_new(self._s, t.runs, rows, ("job_id", "scheduled_time"))
        return [run for run in runs if run.id in inserted]

    async def get(self, run_id: str) -> Run | None:
        row = (await self._s.execute(select(t.runs).where(c.id == run_id))).mappings().first()
        return run_of(row) if row else None

    async def save(self, run: Run, lease: Lease | None) -> None:
        values = run_row(run, lease)
        del values["id"]
        await self._s.execute(update(t.runs).where(c.id == run.id).values(**values))

    async def held_many(self, run_ids: Sequence[str], holder: str) -> dict[str, Run]:
        query = (
            select(t.runs)
            .where(c.id.in_(list(run_ids)), c.lease_holder == holder, c.status.in_(_UNENDED))
            .order_by(c.id)
            .with_for_update()
        )
        return {row["id"]: run_of(row) for row in (await self._s.execute(query)).mappings()}

    async def save_many(self, runs: Sequence[tuple[Run, Lease | None]]) -> None:
        await update_rows(self._s, t.runs, [run_row(run, lease) for run, lease in runs])

    async def add_attempts(self, attempts: Sequence[Attempt]) -> None:
        await insert_all(self._s, t.run_attempts, [attempt_row(attempt) for attempt in attempts])

    async def attempts(self, run_id: str) -> list[Attempt]:
        a = t.run_attempts.c
        query = select(t.run_attempts).where(a.run_id == run_id).order_by(a.number)
        return [attempt_of(row) for row in (await self._s.execute(query)).mappings()]

    async def claim_ready(self, now: dt.datetime, lease: Lease, limit: int) -> list[Run]:
        query = (
            select(t.runs)
            .where(
                c.status.in_(_UNENDED),
                or_(c.lease_until.is_(None), c.lease_until < now),
                or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
            )
            .order_by(c.scheduled_time)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        runs = [run_of(row) for row in (await self._s.execute(query)).mappings()]
        if not runs:
            return []
        for run in runs:
            run.status = RunStatus.RUNNING
            run.started_at = run.started_at or now
        await self._s.execute(
            update(t.runs)
            .where(c.id.in_([run.id for run in runs]))
            .values(status=RunStatus.RUNNING.value, lease_holder=lease.holder, lease_until=lease.until)
        )
        await self._s.execute(
            update(t.runs).where(c.id.in_([r.id for r in runs]), c.started_at.is_(None)).values(started_at=now)
        )
        return runs

    async def renew(self, run_ids: Sequence[str], lease: Lease) -> set[str]:
        held = _locked(c.id.in_(list(run_ids)), c.lease_holder == lease.holder, c.status.in_(_UNENDED))
        statement = update(t.runs).where(c.id.in_(held)).values(lease_until=lease.until).returning(c.id)
        return {row.id for row in await self._s.execute(statement)}

    async def release(self, holder: str, now: dt.datetime) -> None:
        await self._s.execute(
            update(t.runs).where(c.lease_holder == holder, c.status.in_(_UNENDED)).values(lease_until=now)
        )

    async def list_runs(self, where: RunFilter, after: tuple[dt.datetime, str] | None, limit: int) -> list[Run]:
        query = select(t.runs).where(*_conditions(where)).order_by(c.scheduled_time.desc(), c.id.desc())
        if after is not None:
            query = query.where(tuple_(c.scheduled_time, c.id) < tuple_(*after))
        return [run_of(row) for row in (await self._s.execute(query.limit(limit))).mappings()]

    async def cancel_unended(self, where: RunFilter, now: dt.datetime, reason: str) -> int:
        statement = (
            update(t.runs)
            .where(c.id.in_(_locked(*_conditions(where), c.status.in_(_UNENDED))))
            .values(status=RunStatus.CANCELLED.value, finished_at=now, error=reason, next_attempt_at=None)
            .returning(c.id)
        )
        return len((await self._s.execute(statement)).all())


def _locked(*conditions: Any) -> Select[tuple[str]]:
    """The ids of the matching runs, locked in id order: every writer of runs locks in that one order, so a
    batch write, a lease renewal and a cancel never deadlock each other."""
    return select(c.id).where(*conditions).order_by(c.id).with_for_update()


def _conditions(where: RunFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if where.owner_id is not None:
        found.append(c.owner_id == where.owner_id)
    if where.job_id is not None:
        found.append(c.job_id == where.job_id)
    if where.status is not None:
        found.append(c.status == where.status.value)
    if where.scheduled_after is not None:
        found.append(c.scheduled_time >= where.scheduled_after)
    if where.scheduled_before is not None:
        found.append(c.scheduled_time < where.scheduled_before)
    return [and_(*found)] if found else []
