"""`IndicatorStateStore` on SQLAlchemy: one row per (factor, model), replaced on every save."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_factor.adapters.sqlalchemy.tables import indicator_state
from zquant_factor.application.value_ports import IndicatorStateStore
from zquant_kit.persistence.engine import reader
from zquant_kit.persistence.upsert import upsert


class SqlAlchemyIndicatorStateStore(IndicatorStateStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(self, factor_id: str, model_id: str, as_of: dt.date, state: bytes) -> None:
        statement = upsert(
            self._engine,
            indicator_state,
            ["factor_id", "model_id"],
            ["as_of", "state"],
            values={"factor_id": factor_id, "model_id": model_id, "as_of": as_of, "state": state},
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def load(self, factor_id: str, model_id: str) -> tuple[dt.date, bytes] | None:
        c = indicator_state.c
        query = select(c.as_of, c.state).where(c.factor_id == factor_id, c.model_id == model_id)
        async with reader(self._engine).connect() as connection:
            row = (await connection.execute(query)).first()
        return (row.as_of, bytes(row.state)) if row is not None else None
