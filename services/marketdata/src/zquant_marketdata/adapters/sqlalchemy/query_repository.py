"""Read side of the market data store (`MarketQueryRepository`) on PostgreSQL and SQLite.

Reference data (stocks, calendar) goes through SQLAlchemy Core on both. Bar rows on PostgreSQL
take a fast path: the server aggregates each code's rows into one tuple of packed big-endian
byte strings (``string_agg(float8send(col), '')``), streamed with binary ``COPY ... TO STDOUT``.
PostgreSQL sends one COPY message per tuple, so one tuple per code instead of one per bar cuts
the client's per-message work by the number of days (measured ~4x over per-bar binary COPY),
and numpy reads each column with a single ``frombuffer``. SQLite (all-in-one mode) reads rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import struct
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_marketdata.adapters.sqlalchemy import tables
from zquant_marketdata.adapters.sqlalchemy.bar_tables import SCHEMA, bar_table
from zquant_marketdata.application.query_ports import BarRows, Stock, StockFilter, TradeDay
from zquant_marketdata.domain.panel import CodeRuns, runs_from_rows

_UNIX_DAYS_AT_PG_EPOCH = 10_957
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER_FIXED = len(_COPY_SIGNATURE) + 8
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_ASSEMBLE_IN_THREAD_CODES = 500
_PARALLEL_SLICES = 2
_PARALLEL_MIN_CODES = 200


def _date_slices(start: dt.date, end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut into `count` consecutive, non-overlapping day ranges."""
    span = (end - start).days + 1
    bounds = [start + dt.timedelta(days=span * i // count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1] - dt.timedelta(days=1)) for i in range(count) if bounds[i] < bounds[i + 1]]


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
    return or_(*(column.icontains(query, autoescape=True) for column in (s.ts_code, s.symbol, s.name)))


class SqlMarketQueryRepository:
    """`MarketQueryRepository` over the service's engine; picks the bar-row reader by dialect."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

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
            return int(await connection.scalar(select(func.count()).select_from(tables.stock_basic)))

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
                    select(tables.stock_basic.c.ts_code).where(tables.stock_basic.c.ts_code.in_(sorted(remaining)))
                )
                remaining -= {code for (code,) in listed}
            if remaining:
                present = await connection.execute(
                    select(table.c.ts_code).where(table.c.ts_code.in_(sorted(remaining))).distinct()
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
        query = select(func.count()).where(table.c.ts_code.in_(list(ts_codes)), table.c.trade_date.between(start, end))
        async with self._engine.connect() as connection:
            return int(await connection.scalar(query))

    async def factors_on_or_before(self, ts_codes: Sequence[str], day: dt.date) -> BarRows:
        if not ts_codes:
            return BarRows.empty(("adj_factor",))
        codes = sorted(set(ts_codes))
        if self._postgres:
            statement = sql.SQL(
                "SELECT c.ts_code, f.trade_date, f.adj_factor FROM unnest(%s::text[]) AS c(ts_code) "
                "CROSS JOIN LATERAL (SELECT a.trade_date, a.adj_factor FROM {} AS a "
                "WHERE a.ts_code = c.ts_code AND a.trade_date <= %s ORDER BY a.trade_date DESC LIMIT 1) AS f"
            ).format(sql.Identifier(SCHEMA, "adj_factor"))
            async with self._raw() as connection:
                cursor = await connection.execute(statement, (codes, day))
                rows = await cursor.fetchall()
        else:
            a = bar_table("adj_factor")
            latest = (
                select(a.c.ts_code, func.max(a.c.trade_date).label("day"))
                .where(a.c.ts_code.in_(codes), a.c.trade_date <= day)
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
        table = bar_table(dataset)
        for name in columns:
            if name not in table.c or name in ("ts_code", "trade_date"):
                raise ValueError(f"{dataset} has no value column {name!r}")
        if ts_codes is not None and not ts_codes:
            return BarRows.empty(columns)
        if self._postgres:
            return await self._read_rows_postgres(dataset, ts_codes, start, end, columns)
        query: Select = select(table.c.ts_code, table.c.trade_date, *(table.c[name] for name in columns)).where(
            table.c.trade_date.between(start, end)
        )
        if ts_codes is not None:
            query = query.where(table.c.ts_code.in_(list(ts_codes)))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return _rows_from_tuples(rows, columns)

    async def read_runs(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> CodeRuns:
        """`read_rows` as per-code runs (GetPanel's path): on PostgreSQL each run's columns are
        big-endian views onto the COPY messages themselves, so no row-sized array is built
        before the values land in the panel."""
        if not self._postgres or (ts_codes is not None and not ts_codes):
            rows = await self.read_rows(dataset, ts_codes, start, end, columns)
            return runs_from_rows(rows.code_index, rows.codes, rows.days, rows.values)
        table = bar_table(dataset)
        for name in columns:
            if name not in table.c or name in ("ts_code", "trade_date"):
                raise ValueError(f"{dataset} has no value column {name!r}")
        tuples = await self._read_tuples(dataset, ts_codes, start, end, columns)
        return CodeRuns(
            columns=list(columns),
            codes=[str(fields[0], "utf-8") for fields in tuples],
            days=[np.frombuffer(fields[1], dtype=">i4").astype(np.int64) + _UNIX_DAYS_AT_PG_EPOCH for fields in tuples],
            values=[[np.frombuffer(field, dtype=">f8") for field in fields[2:]] for fields in tuples],
        )

    async def _read_tuples(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> list[list]:
        big = (ts_codes is None or len(ts_codes) >= _PARALLEL_MIN_CODES) and (end - start).days > 2 * 366
        slices = _date_slices(start, end, _PARALLEL_SLICES if big else 1)
        parts = await asyncio.gather(*(self._copy_tuples(dataset, ts_codes, a, b, columns) for a, b in slices))
        return [fields for part in parts for fields in part]

    async def _read_rows_postgres(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> BarRows:
        """Big reads (many codes over years) run as date slices on parallel connections: the
        server-side aggregation is CPU-bound in one backend, so slices use more cores."""
        tuples = await self._read_tuples(dataset, ts_codes, start, end, columns)
        if len(tuples) >= _ASSEMBLE_IN_THREAD_CODES:
            return await asyncio.to_thread(_assemble, tuples, columns)
        return _assemble(tuples, columns)

    async def _copy_tuples(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date, columns: Sequence[str]
    ) -> list[list[bytes | None]]:
        table = bar_table(dataset)
        aggregates = [sql.SQL("string_agg(date_send(trade_date), '')")] + [
            sql.SQL("string_agg(float8send(coalesce({}, 'NaN')), '')" if table.c[name].nullable
                    else "string_agg(float8send({}), '')").format(sql.Identifier(name))
            for name in columns
        ]
        code_filter = sql.SQL("ts_code = ANY(%s::text[]) AND ") if ts_codes is not None else sql.SQL("")
        statement = sql.SQL(
            "COPY (SELECT ts_code, {} FROM {} WHERE {}trade_date BETWEEN %s AND %s GROUP BY ts_code) "
            "TO STDOUT (FORMAT BINARY)"
        ).format(sql.SQL(", ").join(aggregates), sql.Identifier(SCHEMA, dataset), code_filter)
        params = ([list(ts_codes)] if ts_codes is not None else []) + [start, end]
        tuples: list[list[bytes | None]] = []
        async with self._raw() as connection:
            async with connection.cursor().copy(statement, params) as copy:
                parser = _CopyTupleParser()
                async for message in copy:
                    tuples.extend(parser.feed(message))
        return tuples

    @asynccontextmanager
    async def _raw(self) -> AsyncIterator[psycopg.AsyncConnection]:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            yield raw.driver_connection


class _CopyTupleParser:
    """Tuples of a binary COPY stream, fed one CopyData message at a time; fields as zero-copy
    memoryviews onto the message (None = NULL), which keep the message alive."""

    def __init__(self) -> None:
        self._header_seen = False

    def feed(self, message) -> list[list[bytes | None]]:
        data = memoryview(message).cast("B")
        position = 0
        if not self._header_seen:
            if bytes(data[: len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
                raise ValueError("not a binary COPY stream")
            (extension,) = _INT32.unpack_from(data, _HEADER_FIXED - 4)
            position = _HEADER_FIXED + extension
            self._header_seen = True
        out = []
        while position < len(data):
            (count,) = _INT16.unpack_from(data, position)
            position += 2
            if count == -1:
                break
            fields: list[bytes | None] = []
            for _ in range(count):
                (length,) = _INT32.unpack_from(data, position)
                position += 4
                if length < 0:
                    fields.append(None)
                else:
                    fields.append(data[position : position + length])
                    position += length
            out.append(fields)
        return out


def _assemble(tuples: list[list[bytes | None]], columns: Sequence[str]) -> BarRows:
    """Tuples of (code, packed dates, packed columns) → BarRows with codes sorted; a code may
    come in several tuples (one per date slice)."""
    if not tuples:
        return BarRows.empty(columns)
    tuples.sort(key=lambda fields: bytes(fields[0]))
    names = [str(fields[0], "utf-8") for fields in tuples]
    codes = sorted(set(names))
    position = {code: index for index, code in enumerate(codes)}
    days = [np.frombuffer(fields[1], dtype=">i4") for fields in tuples]
    counts = np.fromiter((part.size for part in days), dtype=np.int64, count=len(days))
    all_days = (np.concatenate(days).astype(np.int64) + _UNIX_DAYS_AT_PG_EPOCH).astype("datetime64[D]")
    values = {
        name: np.concatenate([np.frombuffer(fields[2 + offset], dtype=">f8") for fields in tuples]).astype(np.float64)
        for offset, name in enumerate(columns)
    }
    tuple_code = np.fromiter((position[name] for name in names), dtype=np.int64, count=len(names))
    return BarRows(codes=codes, code_index=np.repeat(tuple_code, counts), days=all_days, values=values)


def _rows_from_tuples(rows, columns: Sequence[str]) -> BarRows:
    if not rows:
        return BarRows.empty(columns)
    codes, code_index = np.unique(np.array([row[0] for row in rows], dtype=object), return_inverse=True)
    days = np.array([row[1] for row in rows], dtype="datetime64[D]")
    values = {
        name: np.array([np.nan if row[2 + offset] is None else row[2 + offset] for row in rows], dtype=np.float64)
        for offset, name in enumerate(columns)
    }
    return BarRows(codes=[str(code) for code in codes], code_index=code_index.astype(np.int64), days=days, values=values)

