"""The strategy records on SQLAlchemy Core: a row per strategy, converted to and from `StrategyRecord`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zquant_backtest.adapters.sqlalchemy import tables as t
from zquant_backtest.application.strategy_ports import StrategyRepository
from zquant_backtest.domain.strategies import StrategyRecord
from zquant_kit.persistence.statements import affected_rows

_c = t.strategies.c


def _record(row: Any) -> StrategyRecord:
    return StrategyRecord(
        id=row.id, owner_id=row.owner_id, name=row.name, description=row.description, category=row.category,
        code=row.code, params_schema=dict(row.params_schema or {}), created_at=row.created_at,
        updated_at=row.updated_at,
    )  # fmt: skip


def _values(record: StrategyRecord) -> dict[str, Any]:
    return {
        "id": record.id, "owner_id": record.owner_id, "name": record.name, "description": record.description,
        "category": record.category, "code": record.code, "params_schema": dict(record.params_schema),
        "created_at": record.created_at, "updated_at": record.updated_at,
    }  # fmt: skip


class SqlAlchemyStrategyRepository(StrategyRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, record: StrategyRecord) -> None:
        await self._s.execute(t.strategies.insert().values(**_values(record)))

    async def _one(self, *where: Any) -> StrategyRecord | None:
        row = (await self._s.execute(select(t.strategies).where(*where))).first()
        return None if row is None else _record(row)

    async def get(self, strategy_id: str) -> StrategyRecord | None:
        return await self._one(_c.id == strategy_id)

    async def get_by_name(self, owner_id: str, name: str) -> StrategyRecord | None:
        return await self._one(_c.owner_id == owner_id, _c.name == name)

    async def save(self, record: StrategyRecord) -> None:
        values = _values(record)
        del values["id"]
        await self._s.execute(update(t.strategies).where(_c.id == record.id).values(**values))

    async def list_page(
        self, owner_id: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[StrategyRecord]:
        query = select(t.strategies).order_by(_c.created_at.desc(), _c.id.desc()).limit(limit)
        if owner_id is not None:
            query = query.where(_c.owner_id == owner_id)
        if after is not None:
            created = dt.datetime.fromisoformat(after[0])
            query = query.where(
                or_(_c.created_at < created, and_(_c.created_at == created, _c.id < after[1]))
            )
        return [_record(row) for row in await self._s.execute(query)]

    async def delete(self, strategy_id: str) -> None:
        await self._s.execute(delete(t.strategies).where(_c.id == strategy_id))

    async def delete_owned(self, owner_id: str) -> int:
        result = await self._s.execute(delete(t.strategies).where(_c.owner_id == owner_id))
        return affected_rows(result)
