"""SQLAlchemy repositories and units of work of the calculation jobs' records and of the stale marks.

`CalculationRecord` is mapped imperatively onto `tables.calculations` (as the definitions are), so the job
use cases change the record they loaded and the session writes it at commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from zquant_factor.adapters.sqlalchemy import tables as t
from zquant_factor.application.calculation_ports import (
    CalculationRecord,
    CalculationRepository,
    CalculationUnitOfWork,
)
from zquant_factor.application.staleness import StaleFactors, StalenessUnitOfWork
from zquant_kit.jobs import JobState
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork
from zquant_kit.persistence.upsert import insert_or_ignore, upsert

calculation_registry = registry()


def map_calculations() -> None:
    """Idempotent: the record is mapped once per process."""
    if calculation_registry.mappers:
        return
    calculation_registry.map_imperatively(CalculationRecord, t.calculations)


class SqlAlchemyCalculationRepository(CalculationRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, record: CalculationRecord) -> None:
        self._s.add(record)
        await self._s.flush()

    async def get(self, job_id: str) -> CalculationRecord | None:
        return await self._s.get(CalculationRecord, job_id)

    async def claim_key(self, owner_id: str, key: str, job_id: str, now: dt.datetime) -> str:
        keys = t.calculation_keys
        values = {"owner_id": owner_id, "idempotency_key": key, "job_id": job_id, "created_at": now}
        await self._s.execute(insert_or_ignore(self._s, keys, **values))
        bound = select(keys.c.job_id).where(keys.c.owner_id == owner_id, keys.c.idempotency_key == key)
        return str((await self._s.execute(bound)).scalar_one())

    async def list_page(
        self, owner_id: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[CalculationRecord]:
        c = t.calculations.c
        query = select(CalculationRecord).order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        if owner_id is not None:
            query = query.where(c.owner_id == owner_id)
        if after is not None:
            created = dt.datetime.fromisoformat(after[0])
            query = query.where(or_(c.created_at < created, and_(c.created_at == created, c.id < after[1])))
        return (await self._s.execute(query)).scalars().all()

    async def list_owned(self, owner_id: str) -> Sequence[CalculationRecord]:
        c = t.calculations.c
        query = select(CalculationRecord).where(c.owner_id == owner_id).order_by(c.id)
        return (await self._s.execute(query)).scalars().all()

    async def list_unfinished(self) -> Sequence[CalculationRecord]:
        c = t.calculations.c
        unfinished = [state for state in JobState if not state.final]
        query = select(CalculationRecord).where(c.state.in_(unfinished)).order_by(c.created_at, c.id)
        return (await self._s.execute(query)).scalars().all()

    async def delete(self, record: CalculationRecord) -> None:
        await self._s.execute(delete(t.calculation_keys).where(t.calculation_keys.c.job_id == record.id))
        await self._s.delete(record)
        await self._s.flush()


class SqlAlchemyStaleFactors(StaleFactors):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def mark(self, factor_id: str, since: dt.date) -> None:
        statement = upsert(
            self._s,
            t.stale_factors,
            ["factor_id"],
            ["since"],
            values={"factor_id": factor_id, "since": since},
            where=lambda new: new.since < t.stale_factors.c.since,
        )
        await self._s.execute(statement)

    async def clear(self, factor_ids: Sequence[str]) -> None:
        if factor_ids:
            await self._s.execute(delete(t.stale_factors).where(t.stale_factors.c.factor_id.in_(factor_ids)))

    async def list(self) -> dict[str, dt.date]:
        rows = (await self._s.execute(select(t.stale_factors.c.factor_id, t.stale_factors.c.since))).all()
        return {row.factor_id: row.since for row in rows}


class SqlAlchemyCalculationUnitOfWork(SqlAlchemyUnitOfWork, CalculationUnitOfWork):
    processed_messages = t.processed_messages

    def _enter(self) -> None:
        self.calculations = SqlAlchemyCalculationRepository(self.session)


class SqlAlchemyStalenessUnitOfWork(SqlAlchemyUnitOfWork, StalenessUnitOfWork):
    processed_messages = t.processed_messages

    def _enter(self) -> None:
        self.stale = SqlAlchemyStaleFactors(self.session)
