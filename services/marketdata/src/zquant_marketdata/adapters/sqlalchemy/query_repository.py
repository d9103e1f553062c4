"""Read side of the market data store (`MarketQueryRepository`) on PostgreSQL and SQLite.

Reference data (stocks, calendar) goes through SQLAlchemy Core on both. Bar rows on PostgreSQL
take the kit's block path (`zquant_kit.persistence.blocks.postgres_reads`): per-(code, year) runs
packed big-endian, streamed with binary ``COPY ... TO STDOUT`` a few large messages at a time,
each column read by numpy with a single ``frombuffer``; big reads as year slices on parallel
connections. SQLite (all-in-one mode) reads rows; a
big read is decoded in a worker process (`sqlite_reads`), so its Python row loop never holds the
event loop's GIL. Every read runs as a read transaction (`reader`): on SQLite it takes no lock.
A list of codes is always one parameter (an array, or JSON on SQLite), however long.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import sql
from sqlalchemy import Select, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_kit.persistence.blocks.pg_connection import pg_connection
from zquant_kit.persistence.blocks.postgres_reads import PostgresBlockReader, year_slices
from zquant_kit.persistence.engine import reader
from zquant_kit.persistence.like import icontains
from zquant_kit.persistence.params import in_values
from zquant_kit.workers import WorkerProcesses
from zquant_marketdata.adapters.sqlalchemy import sqlite_reads, tables
from zquant_marketdata.adapters.sqlalchemy.bar_tables import BAR_BLOCKS, SCHEMA, bar_table, value_columns
from zquant_marketdata.adapters.sqlalchemy.rule_field_reads import SqlRuleFieldReads
from zquant_marketdata.application.query_ports import Stock, StockFilter, TradeDay
from zquant_marketdata.domain.bar_rows import BarRows, rows_of_runs
from zquant_marketdata.domain.panel import CodeRuns, RunPart, runs_from_rows

_ASSEMBLE_IN_THREAD_ROWS = 100_000
_PARALLEL_SLICES = 2
_PARALLEL_MIN_CODES = 200
WORKER_MIN_ROWS = 20_000
"""Estimated rows (codes × weekdays) from which a SQLite read is decoded in a worker process."""


def _check_columns(dataset: str, columns: Sequence[str]) -> Table:
    known = value_columns(dataset)
    for name in columns:
        if name not in known:
            raise ValueError(f"{dataset} has no value column {name!r}")
    return bar_table(dataset)


def _stock(row) -> Stock:
    return Stock(
        ts_code=row.ts_code,
        symbol=row.symbol,
        name=row.name,
        industry=row.industry,
        market=row.market,
        exchange=row.exchange,
        list_status=row.list_status,
        list_date=row.list_date,
        delist_date=row.delist_date,
    )


def _like_any(query: str):
    s = tables.stock_basic.c
    return icontains(query, "query", s.ts_code, s.symbol, s.name)


class SqlMarketQueryRepository(SqlRuleFieldReads):
    """`MarketQueryRepository` over the service's engine; picks the bar-row reader by dialect."""

    def __init__(self, engine: AsyncEngine, workers: WorkerProcesses | None = None) -> None:
        self._engine = reader(engine)
        self._dialect = engine.dialect.name
        self._postgres = self._dialect == "postgresql"
        database = engine.url.database
        # An in-memory database is private to this process: it cannot be read from a worker.
        self._path = database if database and database != ":memory:" and not self._postgres else None
        self._workers = workers
        self._blocks = PostgresBlockReader(self._engine, BAR_BLOCKS)

    # -- reference data ---------------------------------------------------------------------

    async def list_stocks(self, filter: StockFilter, after: str | None, limit: int) -> list[Stock]:
        s = tables.stock_basic.c
        query = select(tables.stock_basic)
        for column, value in ((s.exchange, filter.exchange), (s.market, filter.market),
                              (s.industry, filter.industry), (s.list_status, filter.list_status)):
            if value:
                query = query.where(column == value)
        if filter.query:
            query = query.where(_like_any(filter.query))
        if after is not None:
            query = query.where(s.ts_code > after)
        query = query.order_by(s.ts_code).limit(limit)
        async with self._engine.connect() as connection:
            return [_stock(row) for row in await connection.execute(query)]

    async def count_stocks(self) -> int:
        """Stocks in stock_basic: GetPanel's bound on the whole market before it reads any bar."""
        async with self._engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(tables.stock_basic)) or 0)

    async def get_stock(self, ts_code: str) -> Stock | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(tables.stock_basic).where(tables.stock_basic.c.ts_code == ts_code))
            ).first()
        return _stock(row) if row else None

    async def unknown_codes(self, dataset: str, ts_codes: Sequence[str]) -> list[str]:
        table = bar_table(dataset)
        remaining = set(ts_codes)
        async with self._engine.connect() as connection:
            if dataset != "index_daily":
                listed = await connection.execute(
                    select(tables.stock_basic.c.ts_code).where(
                        in_values(tables.stock_basic.c.ts_code, sorted(remaining), self._dialect)
                    )
                )
                remaining -= {code for (code,) in listed}
            if remaining:
                present = await connection.execute(
                    select(table.c.ts_code).where(in_values(table.c.ts_code, sorted(remaining), self._dialect)).distinct()
                )
                remaining -= {code for (code,) in present}
        return [code for code in ts_codes if code in remaining]

    async def trade_calendar(self, exchange: str, start: dt.date, end: dt.date, open_only: bool) -> list[TradeDay]:
        c = tables.trade_cal.c
        query = (
            select(c.cal_date, c.is_open, c.pretrade_date)
            .where(c.exchange == exchange, c.cal_date.between(start, end))
            .order_by(c.cal_date)
        )
        if open_only:
            query = query.where(c.is_open.is_(True))
        async with self._engine.connect() as connection:
            return [TradeDay(row.cal_date, bool(row.is_open), row.pretrade_date) for row in await connection.execute(query)]

    async def open_days(self, exchange: str, start: dt.date, end: dt.date) -> np.ndarray:
        c = tables.trade_cal.c
        query = (
            select(c.cal_date)
            .where(c.exchange == exchange, c.cal_date.between(start, end), c.is_open.is_(True))
            .order_by(c.cal_date)
        )
        async with self._engine.connect() as connection:
            days = (await connection.execute(query)).scalars().all()
        return np.array(days, dtype="datetime64[D]")

    async def count_rows(self, dataset: str, ts_codes: Sequence[str], start: dt.date, end: dt.date) -> int:
        table = bar_table(dataset)
        query = select(func.count()).where(
            in_values(table.c.ts_code, list(ts_codes), self._dialect), table.c.trade_date.between(start, end)
        )
        async with self._engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    async def factors_on_or_before(self, ts_codes: Sequence[str], day: dt.date) -> BarRows:
        if not ts_codes:
            return BarRows.empty(("adj_factor",))
        codes = sorted(set(ts_codes))
        rows: Sequence[Sequence[Any]]
        if self._postgres:
            statement = sql.SQL(
                "SELECT c.ts_code, f.trade_date, f.adj_factor FROM unnest(%s::text[]) AS c(ts_code) "
                "CROSS JOIN LATERAL (SELECT a.trade_date, a.adj_factor FROM {} AS a "
                "WHERE a.ts_code = c.ts_code AND a.trade_date <= %s ORDER BY a.trade_date DESC LIMIT 1) AS f"
            ).format(sql.Identifier(SCHEMA, "adj_factor"))
            async with pg_connection(self._engine) as connection:
                cursor = await connection.execute(statement, (codes, day))
                rows = await cursor.fetchall()
        else:
            a = bar_table("adj_factor")
            latest = (
                select(a.c.ts_code, func.max(a.c.trade_date).label("day"))
                .where(in_values(a.c.ts_code, codes, self._dialect), a.c.trade_date <= day)
                .group_by(a.c.ts_code)
                .subquery()
            )
            query = select(a.c.ts_code, a.c.trade_date, a.c.adj_factor).join(
                latest, and_(a.c.ts_code == latest.c.ts_code, a.c.trade_date == latest.c.day)
            )
            async with self._engine.connect() as connection:
                rows = (await connection.execute(query)).all()
        return _rows_from_tuples(rows, ("adj_factor",))

    # -- bar rows ---------------------------------------------------------------------------

    async def read_rows(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> BarRows:
        table = _check_columns(dataset, columns)
        if ts_codes is not None and not ts_codes:
            return BarRows.empty(columns)
        if self._postgres:
            return await self._read_rows_postgres(dataset, ts_codes, start, end, columns)
        if self._in_worker(ts_codes, start, end):
            codes, lengths, days, values = await self._worker_runs(dataset, ts_codes, start, end, columns)
            return BarRows(
                codes=codes,
                code_index=np.repeat(np.arange(len(codes), dtype=np.int64), lengths),
                days=days.astype("datetime64[D]"),
                values=dict(zip(columns, values, strict=True)),
            )
        query: Select = select(table.c.ts_code, table.c.trade_date, *(table.c[name] for name in columns)).where(
            table.c.trade_date.between(start, end)
        )
        if ts_codes is not None:
            query = query.where(in_values(table.c.ts_code, list(ts_codes), self._dialect))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return _rows_from_tuples(rows, columns)

    def _in_worker(self, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date) -> bool:
        if self._workers is None or self._path is None:
            return False
        if ts_codes is None:
            return True
        return len(ts_codes) * int(np.busday_count(start, end + dt.timedelta(days=1))) >= WORKER_MIN_ROWS

    async def _worker_runs(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> sqlite_reads.Runs:
        assert self._workers is not None and self._path is not None
        return await self._workers.run(
            sqlite_reads.read_runs,
            self._path,
            sqlite_reads.statement(dataset, columns, ts_codes is not None),
            sqlite_reads.parameters(ts_codes, start, end),
            len(columns),
        )

    async def read_runs(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> CodeRuns:
        """`read_rows` as parts of per-code runs (GetPanel's path): on PostgreSQL each part's
        columns are big-endian views onto the COPY messages themselves, so no row-sized array is
        built before the values land in the panel."""
        if not self._postgres and (ts_codes is None or ts_codes) and self._in_worker(ts_codes, start, end):
            _check_columns(dataset, columns)
            codes, lengths, days, values = await self._worker_runs(dataset, ts_codes, start, end, columns)
            parts = [RunPart(codes=codes, lengths=lengths, days=days, values=values)] if codes else []
            return CodeRuns(columns=list(columns), parts=parts)
        if not self._postgres or (ts_codes is not None and not ts_codes):
            rows = await self.read_rows(dataset, ts_codes, start, end, columns)
            return runs_from_rows(rows.code_index, rows.codes, rows.days, rows.values)
        _check_columns(dataset, columns)
        return CodeRuns(columns=list(columns), parts=await self._read_parts(dataset, ts_codes, start, end, columns))

    async def _read_parts(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> list[RunPart]:
        """Big reads (many codes over years) run as year slices on parallel connections: a
        backend is one core, so slices use more of them."""
        big = (ts_codes is None or len(ts_codes) >= _PARALLEL_MIN_CODES) and end.year - start.year >= 2
        slices = year_slices(start, end, _PARALLEL_SLICES if big else 1)
        parts = await asyncio.gather(*(self._copy_parts(dataset, ts_codes, a, b, columns) for a, b in slices))
        return [part for group in parts for part in group]

    async def _read_rows_postgres(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> BarRows:
        parts = await self._read_parts(dataset, ts_codes, start, end, columns)
        if sum(part.days.size for part in parts) >= _ASSEMBLE_IN_THREAD_ROWS:
            return await asyncio.to_thread(rows_of_runs, parts, columns)
        return rows_of_runs(parts, columns)

    async def _copy_parts(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> list[RunPart]:
        """The rows of [start, end] as parts of (code, year) runs, from the blocks where current."""
        packed = await self._blocks.read_runs(dataset, ts_codes, start, end, columns)
        return [RunPart(codes=part.codes, lengths=part.lengths, days=part.days, values=part.values) for part in packed]


def _rows_from_tuples(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> BarRows:
    if not rows:
        return BarRows.empty(columns)
    codes, code_index = np.unique(np.array([row[0] for row in rows], dtype=object), return_inverse=True)
    days = np.array([row[1] for row in rows], dtype="datetime64[D]")
    values = {
        name: np.array([np.nan if row[2 + offset] is None else row[2 + offset] for row in rows], dtype=np.float64)
        for offset, name in enumerate(columns)
    }
    return BarRows(codes=[str(code) for code in codes], code_index=code_index.astype(np.int64), days=days, values=values)

