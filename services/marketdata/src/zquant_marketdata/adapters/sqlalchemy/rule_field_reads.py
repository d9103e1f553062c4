"""`RuleFieldRepository` on SQLAlchemy Core (PostgreSQL and SQLite): listing lives, suspension
days and name periods for GetPanel's rule fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_kit.persistence.params import in_values
from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.rule_tables import RECORD_TABLES
from zquant_marketdata.application.query_ports import RuleFieldRepository
from zquant_marketdata.domain.rule_datasets import SUSPENDED


class SqlRuleFieldReads(RuleFieldRepository):
    _engine: AsyncEngine
    _dialect: str

    async def stock_lives(self, ts_codes: Sequence[str]) -> dict[str, tuple[dt.date | None, dt.date | None]]:
        c = tables.stock_basic.c
        query = select(c.ts_code, c.list_date, c.delist_date).where(in_values(c.ts_code, list(ts_codes), self._dialect))
        async with self._engine.connect() as connection:
            return {row.ts_code: (row.list_date, row.delist_date) for row in await connection.execute(query)}

    async def suspended_days(self, ts_codes: Sequence[str], start: dt.date, end: dt.date) -> list[tuple[str, dt.date]]:
        c = RECORD_TABLES["suspend_d"].c
        query = select(c.ts_code, c.trade_date).where(
            in_values(c.ts_code, list(ts_codes), self._dialect),
            c.trade_date.between(start, end),
            c.suspend_type == SUSPENDED,
        )
        async with self._engine.connect() as connection:
            return [(row.ts_code, row.trade_date) for row in await connection.execute(query)]

    async def name_spans(
        self, ts_codes: Sequence[str], start: dt.date, end: dt.date
    ) -> list[tuple[str, dt.date, dt.date | None, str]]:
        c = RECORD_TABLES["namechange"].c
        query = select(c.ts_code, c.start_date, c.end_date, c.name).where(
            in_values(c.ts_code, list(ts_codes), self._dialect),
            c.start_date <= end,
            or_(c.end_date.is_(None), c.end_date >= start),
        )
        async with self._engine.connect() as connection:
            return [(row.ts_code, row.start_date, row.end_date, row.name) for row in await connection.execute(query)]
