"""Bulk bar stores: PostgreSQL via binary COPY, SQLite for the all-in-one mode.

A history sync writes millions of rows, so the PostgreSQL path never builds
Python objects per row: each frame is validated column-wise, then encoded into
the COPY binary wire format with numpy in bulk. A first load of a
(codes x dates) range copies straight into the table; anything else goes
through a temporary staging table and set-based SQL, which also yields exact
inserted/updated/unchanged counts.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_kit.persistence.params import in_values
from zquant_marketdata.adapters.sqlalchemy.bar_tables import (
    BAR_TABLES,
    BLOCK_STALENESS,
    KEY_COLUMNS,
    SCHEMA,
    SQLITE_SCHEMA_TRANSLATE,
    bar_table,
    block_table_name,
    value_columns,
)
from zquant_marketdata.adapters.sqlalchemy.pg_binary import (
    COPY_SIGNATURE,
    UNIX_DAYS_AT_PG_EPOCH,
    packed_aggregates,
    quoted,
)
from zquant_marketdata.application.bar_store_port import WriteCounts

_log = logging.getLogger(__name__)

_STAGE_TABLE = "bar_stage"
_COPY_HEADER = COPY_SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_TRAILER = b"\xff\xff"
_COPY_CHUNK_ROWS = 100_000
"""Rows encoded per COPY message batch: bounds memory while the server ingests the previous one."""


@dataclass(frozen=True, slots=True)
class _BarBatch:
    """A validated frame as columns: ts_code factorized, trade_date as days, values float64 (NaN = NULL)."""

    table: Table
    code_index: np.ndarray
    codes: list[str]
    trade_date: np.ndarray
    values: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(self.code_index)

    @property
    def columns(self) -> list[str]:
        return [*KEY_COLUMNS, *self.values]

    def date_bounds(self) -> tuple[date, date]:
        return self.trade_date.min().item(), self.trade_date.max().item()


def _prepare_batch(table: Table, frame: pd.DataFrame) -> _BarBatch:
    """Validate and convert a frame before any database work, so a bad frame writes nothing."""
    dataset = table.name
    for column in table.columns:
        if not column.nullable and column.name not in frame.columns:
            raise ValueError(f"{dataset}: missing required column {column.name!r}")

    code_index, uniques = pd.factorize(frame["ts_code"])
    if (code_index < 0).any():
        raise ValueError(f"{dataset}.ts_code: {(code_index < 0).sum()} null value(s)")
    codes = list(uniques)
    bad_codes = [code for code in codes if not isinstance(code, str) or not code or "\x00" in code]
    if bad_codes:
        raise ValueError(f"{dataset}.ts_code: not a non-empty string: {bad_codes[:3]!r}")

    trade_date = _trade_dates(dataset, frame["trade_date"])

    values: dict[str, np.ndarray] = {}
    for column in table.columns:
        if column.name in KEY_COLUMNS:
            continue
        if column.name not in frame.columns:
            values[column.name] = np.full(len(frame), np.nan)
            continue
        try:
            numbers = pd.to_numeric(frame[column.name], errors="raise")
            values[column.name] = numbers.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{dataset}.{column.name}: not numeric ({str(exc).splitlines()[0]})") from None
        nulls = np.isnan(values[column.name])
        if not column.nullable and nulls.any():
            first = int(np.flatnonzero(nulls)[0])
            raise ValueError(
                f"{dataset}.{column.name}: {int(nulls.sum())} null value(s) in a NOT NULL column, first at "
                f"ts_code={codes[code_index[first]]!r} trade_date={trade_date[first]}"
            )

    batch = _BarBatch(table, code_index, codes, trade_date, values)
    _reject_duplicate_keys(batch)
    return batch


def _trade_dates(dataset: str, column: pd.Series) -> np.ndarray:
    """trade_date as datetime64[D], from dates, datetimes or Tushare's `YYYYMMDD` (string or int)."""
    if column.isna().any():
        raise ValueError(f"{dataset}.trade_date: {int(column.isna().sum())} null value(s)")
    try:
        if pd.api.types.is_integer_dtype(column):
            column = column.astype("str")
        stamps = column if pd.api.types.is_datetime64_any_dtype(column) else pd.to_datetime(column, format="ISO8601")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{dataset}.trade_date: not a date ({str(exc).splitlines()[0]})") from None
    if stamps.dt.tz is not None:
        raise ValueError(f"{dataset}.trade_date: timezone-aware datetimes are ambiguous, pass dates")
    days = stamps.to_numpy().astype("datetime64[D]")
    if (days != stamps.to_numpy()).any():
        raise ValueError(f"{dataset}.trade_date: has a time of day; pass dates")
    return days


def _reject_duplicate_keys(batch: _BarBatch) -> None:
    """Two rows with one key would make the result depend on row order, so refuse them."""
    if batch.size < 2:
        return
    days = batch.trade_date.astype(np.int64)
    first_day = days.min()
    span = int(days.max() - first_day) + 1
    keys = np.sort(batch.code_index.astype(np.int64) * span + (days - first_day))
    repeated = keys[1:][keys[1:] == keys[:-1]]
    if repeated.size:
        code, day = divmod(int(repeated[0]), span)
        raise ValueError(
            f"{batch.table.name}: duplicate (ts_code, trade_date) keys in the frame, "
            f"e.g. ({batch.codes[code]!r}, {np.datetime64(int(first_day) + day, 'D')})"
        )


def _copy_binary_chunks(batch: _BarBatch) -> Iterator[bytes]:
    """The COPY binary stream of the batch, columns in `batch.columns` order.

    A tuple is int16 field count, then per field int32 length and the value
    (length -1 and no value for NULL). Rows whose ts_code length and NULL
    pattern agree have a fixed layout, so each such group is one numpy
    structured array written in a single `tobytes`.
    """
    code_bytes = [code.encode() for code in batch.codes]
    code_lengths = np.fromiter(map(len, code_bytes), dtype=np.int64, count=len(code_bytes))
    code_tables = {
        length: np.array([code if len(code) == length else b"" for code in code_bytes], dtype=f"S{length}")
        for length in set(code_lengths.tolist())
    }
    pg_days = (batch.trade_date.astype(np.int64) - UNIX_DAYS_AT_PG_EPOCH).astype(">i4")
    value_names = list(batch.values)
    nullable = [name for name in value_names if batch.table.c[name].nullable]

    yield _COPY_HEADER
    for start in range(0, batch.size, _COPY_CHUNK_ROWS):
        rows = slice(start, start + _COPY_CHUNK_ROWS)
        code_index = batch.code_index[rows]
        layout = code_lengths[code_index] << len(nullable)
        for bit, name in enumerate(nullable):
            layout |= np.isnan(batch.values[name][rows]).astype(np.int64) << bit
        parts = []
        for group_layout in np.unique(layout).tolist():
            members = np.flatnonzero(layout == group_layout) + start
            null_names = {name for bit, name in enumerate(nullable) if group_layout >> bit & 1}
            code_length = group_layout >> len(nullable)
            parts.append(
                _encode_group(batch, members, code_tables[code_length], pg_days, value_names, null_names)
            )
        yield b"".join(parts)
    yield _COPY_TRAILER


def _encode_group(
    batch: _BarBatch,
    members: np.ndarray,
    code_table: np.ndarray,
    pg_days: np.ndarray,
    value_names: list[str],
    null_names: set[str],
) -> bytes:
    fields: list[tuple[str, str]] = [("field_count", ">i2"), ("code_len", ">i4"), ("code", code_table.dtype.str)]
    fields += [("date_len", ">i4"), ("date", ">i4")]
    for name in value_names:
        fields.append((f"{name}_len", ">i4"))
        if name not in null_names:
            fields.append((name, ">f8"))
    tuples = np.empty(len(members), dtype=np.dtype(fields))
    tuples["field_count"] = 2 + len(value_names)
    tuples["code_len"] = code_table.dtype.itemsize
    tuples["code"] = code_table[batch.code_index[members]]
    tuples["date_len"] = 4
    tuples["date"] = pg_days[members]
    for name in value_names:
        if name in null_names:
            tuples[f"{name}_len"] = -1
        else:
            tuples[f"{name}_len"] = 8
            tuples[name] = batch.values[name][members]
    return tuples.tobytes()


def _empty_bars(table: Table) -> pd.DataFrame:
    return _finish_bars(table, pd.DataFrame({column.name: [] for column in table.columns}))


def _finish_bars(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """One set of dtypes whichever store answered: str codes, datetime64[ns] dates, float64 values."""
    dtypes = {name: "float64" for name in frame.columns}
    dtypes.update(ts_code="str", trade_date="datetime64[ns]")
    frame = frame.astype(dtypes)
    return frame[[column.name for column in table.columns]].reset_index(drop=True)


def _years(days: np.ndarray) -> list[int]:
    return np.unique(days.astype("datetime64[Y]").astype(np.int64) + 1970).tolist()


async def _mark_years_stale(connection: psycopg.AsyncConnection, dataset: str, years: Sequence[int]) -> None:
    """In the writer's transaction: these years' blocks no longer match the rows. `DO UPDATE` (not
    `DO NOTHING`) so a writer waits for a refresh holding the marker and re-marks after it, rather
    than slipping its rows past a refresh that cannot see them. Years in order: no deadlock between
    two writers."""
    if not years:
        return
    await connection.execute(
        sql.SQL(
            "INSERT INTO {} AS marker (dataset, year) SELECT %s, unnest(%s::smallint[]) ORDER BY 2 "
            "ON CONFLICT (dataset, year) DO UPDATE SET version = marker.version + 1"
        ).format(sql.Identifier(SCHEMA, BLOCK_STALENESS)),
        (dataset, sorted(years)),
    )


class PostgresBulkBarStore:
    """`BarStore` on PostgreSQL, writing with binary COPY.

    Takes a SQLAlchemy `AsyncEngine` (psycopg driver; each call checks out a
    pooled connection) or a `psycopg.AsyncConnection` the caller owns; on the
    latter a write joins an open transaction as a savepoint.
    """

    def __init__(self, source: AsyncEngine | psycopg.AsyncConnection) -> None:
        self._source = source

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        if isinstance(self._source, psycopg.AsyncConnection):
            yield self._source
            return
        async with self._source.connect() as connection:
            raw = await connection.get_raw_connection()
            yield raw.driver_connection

    async def write(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        table = bar_table(dataset)
        batch = _prepare_batch(table, frame)
        if batch.size == 0:
            return WriteCounts(inserted=0, updated=0, unchanged=0)
        async with self._connection() as connection, connection.transaction():
            if not await self._holds_rows_in_range(connection, batch):
                try:
                    async with connection.transaction():
                        await self._copy(connection, sql.Identifier(SCHEMA, table.name), batch)
                        await _mark_years_stale(connection, dataset, _years(batch.trade_date))
                    _log.debug("%s: %d rows copied straight into an empty range", dataset, batch.size)
                    return WriteCounts(inserted=batch.size, updated=0, unchanged=0)
                except psycopg.errors.UniqueViolation:
                    _log.info("%s: a concurrent writer filled the range, merging via staging", dataset)
            return await self._merge_via_staging(connection, batch)

    async def refresh_blocks(self) -> int:
        """Rebuilds the blocks of every stale (dataset, year), one transaction each, and returns how
        many it rebuilt. The marker is locked first, so the rebuild's snapshot holds every write that
        marked it; a write still in flight waits for the lock and marks the year again after. Another
        replica refreshing at once finds the marker gone and skips the year."""
        marker = sql.Identifier(SCHEMA, BLOCK_STALENESS)
        rebuilt = 0
        async with self._connection() as connection:
            async with connection.transaction():
                cursor = await connection.execute(
                    sql.SQL("SELECT dataset, year FROM {} ORDER BY dataset, year").format(marker)
                )
                pending = [(dataset, year) for dataset, year in await cursor.fetchall() if dataset in BAR_TABLES]
            for dataset, year in pending:
                async with connection.transaction():
                    cursor = await connection.execute(
                        sql.SQL("SELECT 1 FROM {} WHERE dataset = %s AND year = %s FOR UPDATE").format(marker),
                        (dataset, year),
                    )
                    if await cursor.fetchone() is None:
                        continue
                    await self._rebuild_year(connection, dataset, year)
                    await connection.execute(
                        sql.SQL("DELETE FROM {} WHERE dataset = %s AND year = %s").format(marker), (dataset, year)
                    )
                rebuilt += 1
        if rebuilt:
            _log.info("rebuilt %d stale bar block year(s)", rebuilt)
        return rebuilt

    @staticmethod
    async def _rebuild_year(connection: psycopg.AsyncConnection, dataset: str, year: int) -> None:
        table = bar_table(dataset)
        names = value_columns(dataset)
        blocks = sql.Identifier(SCHEMA, block_table_name(dataset))
        await connection.execute(sql.SQL("DELETE FROM {} WHERE year = %s").format(blocks), (year,))
        await connection.execute(
            sql.SQL(
                "INSERT INTO {blocks} (ts_code, year, trade_dates, {names}) "
                "SELECT ts_code, %s, {packed} FROM {rows} "
                "WHERE trade_date >= %s AND trade_date < %s GROUP BY ts_code"
            ).format(
                blocks=blocks, names=quoted(names), packed=packed_aggregates(table, names),
                rows=sql.Identifier(SCHEMA, table.name),
            ),
            (year, date(year, 1, 1), date(year + 1, 1, 1)),
        )

    async def _holds_rows_in_range(self, connection: psycopg.AsyncConnection, batch: _BarBatch) -> bool:
        """Whether any (code, date) of the batch's codes x date range is stored already."""
        first_day, last_day = batch.date_bounds()
        query = sql.SQL(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE ts_code = ANY(%s) AND trade_date BETWEEN %s AND %s)"
        ).format(sql.Identifier(SCHEMA, batch.table.name))
        cursor = await connection.execute(query, (batch.codes, first_day, last_day))
        (exists,) = await cursor.fetchone()
        return exists

    async def _analyze_unanalyzed_partitions(self, connection: psycopg.AsyncConnection, batch: _BarBatch) -> None:
        """A partition filled by COPY has no statistics until autovacuum gets to it; an upsert planned on
        none joins the stage badly (measured 7x slower), so the first merge into it analyzes it."""
        first_day, last_day = batch.date_bounds()
        names = [f"{batch.table.name}_y{year}" for year in range(first_day.year, last_day.year + 1)]
        cursor = await connection.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.reltuples < 0",
            (SCHEMA, names),
        )
        stale = await cursor.fetchall()
        if stale:
            # Row counts and rough distributions are all this plan needs: a small sample keeps it quick.
            await connection.execute("SET LOCAL default_statistics_target = 10")
        for (name,) in stale:
            await connection.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SCHEMA, name)))

    async def _copy(self, connection: psycopg.AsyncConnection, target: sql.Identifier, batch: _BarBatch) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(target, quoted(batch.columns))
        async with connection.cursor().copy(statement) as copy:
            for chunk in _copy_binary_chunks(batch):
                await copy.write(chunk)

    async def _merge_via_staging(self, connection: psycopg.AsyncConnection, batch: _BarBatch) -> WriteCounts:
        """Insert the new keys, then update the stored rows that differ; each statement's row
        count is exact even when another writer races on the same keys."""
        target = sql.Identifier(SCHEMA, batch.table.name)
        stage = sql.Identifier(_STAGE_TABLE)
        value_names = list(batch.values)
        first_day, last_day = batch.date_bounds()
        await self._analyze_unanalyzed_partitions(connection, batch)
        # The join sorts the staged keys: in memory, not in temp files.
        await connection.execute("SET LOCAL work_mem = '64MB'")
        await connection.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(stage, target)
        )
        await self._copy(connection, stage, batch)
        await connection.execute(sql.SQL("ANALYZE {}").format(stage))
        inserted = await connection.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT (ts_code, trade_date) DO NOTHING").format(
                target, quoted(batch.columns), quoted(batch.columns), stage
            )
        )
        updated = await connection.execute(
            sql.SQL(
                "UPDATE {target} AS stored SET {assignments} FROM {stage} AS staged "
                "WHERE stored.ts_code = staged.ts_code AND stored.trade_date = staged.trade_date "
                "AND stored.trade_date BETWEEN %s AND %s "
                "AND ({stored_values}) IS DISTINCT FROM ({staged_values})"
            ).format(
                target=target,
                stage=stage,
                assignments=sql.SQL(", ").join(
                    sql.SQL("{} = staged.{}").format(sql.Identifier(name), sql.Identifier(name))
                    for name in value_names
                ),
                stored_values=sql.SQL(", ").join(sql.Identifier("stored", name) for name in value_names),
                staged_values=sql.SQL(", ").join(sql.Identifier("staged", name) for name in value_names),
            ),
            (first_day, last_day),
        )
        inserted, updated = inserted.rowcount, updated.rowcount
        await connection.execute(sql.SQL("DROP TABLE {}").format(stage))
        if inserted or updated:
            # The batch's years, not only the changed rows' (a RETURNING of those cost ~5% of the
            # upsert): a refresh may rebuild a year for nothing, never miss one.
            await _mark_years_stale(connection, batch.table.name, _years(batch.trade_date))
        counts = WriteCounts(inserted=inserted, updated=updated, unchanged=batch.size - inserted - updated)
        _log.debug("%s: merged %d rows via staging: %s", batch.table.name, batch.size, counts)
        return counts

    async def read_bars(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date
    ) -> pd.DataFrame:
        """Streams the rows out as CSV into pyarrow's parser: far faster than fetching tuples."""
        table = bar_table(dataset)
        names = [column.name for column in table.columns]
        code_filter = sql.SQL("ts_code = ANY(%s) AND ") if ts_codes is not None else sql.SQL("")
        query = sql.SQL(
            "COPY (SELECT {} FROM {} WHERE {}trade_date BETWEEN %s AND %s ORDER BY ts_code, trade_date) "
            "TO STDOUT (FORMAT CSV)"
        ).format(quoted(names), sql.Identifier(SCHEMA, table.name), code_filter)
        params = ([list(ts_codes)] if ts_codes is not None else []) + [start, end]
        payload = io.BytesIO()
        async with self._connection() as connection, connection.cursor().copy(query, params) as copy:
            async for block in copy:
                payload.write(block)
        if not payload.getbuffer().nbytes:
            return _empty_bars(table)
        payload.seek(0)
        column_types = {name: pa.float64() for name in names}
        column_types.update(ts_code=pa.string(), trade_date=pa.date32())
        arrow = pa_csv.read_csv(
            payload,
            read_options=pa_csv.ReadOptions(column_names=names),
            convert_options=pa_csv.ConvertOptions(column_types=column_types),
        )
        return _finish_bars(table, arrow.to_pandas(date_as_object=False))

    async def last_trade_date(self, dataset: str) -> date | None:
        """Looks at the partitions of the last year first: no index leads with trade_date, and
        the newest row of {trade_date >= cutoff} is the newest overall whenever there is one."""
        table = bar_table(dataset)
        async with self._connection() as connection:
            cursor = await connection.execute(
                sql.SQL(
                    "SELECT coalesce((SELECT max(trade_date) FROM {table} WHERE trade_date >= current_date - 366), "
                    "(SELECT max(trade_date) FROM {table}))"
                ).format(table=sql.Identifier(SCHEMA, table.name))
            )
            (newest,) = await cursor.fetchone()
        return newest


class SqliteBulkBarStore:
    """`BarStore` on SQLite (aiosqlite) for the all-in-one mode: correct, not fast.

    Rows are staged in a temp table so the counts come from set comparisons
    against the stored rows, then one `INSERT ... ON CONFLICT DO UPDATE ...
    WHERE` rewrites only rows that changed.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(schema_translate_map=SQLITE_SCHEMA_TRANSLATE)

    async def write(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        table = bar_table(dataset)
        batch = _prepare_batch(table, frame)
        if batch.size == 0:
            return WriteCounts(inserted=0, updated=0, unchanged=0)
        names = batch.columns
        columns = ", ".join(f'"{name}"' for name in names)
        key_match = "stored.ts_code = staged.ts_code AND stored.trade_date = staged.trade_date"
        differs = " OR ".join(f'stored."{name}" IS NOT staged."{name}"' for name in batch.values)
        async with self._engine.begin() as connection:
            # pysqlite runs DDL outside its implicit transaction, so a failed
            # write may have left the stage behind on this pooled connection.
            await connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_STAGE_TABLE}")
            await connection.exec_driver_sql(
                f'CREATE TEMP TABLE {_STAGE_TABLE} AS SELECT {columns} FROM "{table.name}" WHERE 0'
            )
            await connection.exec_driver_sql(
                f"INSERT INTO temp.{_STAGE_TABLE} ({columns}) VALUES ({', '.join('?' * len(names))})",
                _sqlite_rows(batch),
            )
            inserted = (
                await connection.exec_driver_sql(
                    f"SELECT count(*) FROM temp.{_STAGE_TABLE} AS staged WHERE NOT EXISTS "
                    f'(SELECT 1 FROM "{table.name}" AS stored WHERE {key_match})'
                )
            ).scalar_one()
            updated = (
                await connection.exec_driver_sql(
                    f'SELECT count(*) FROM temp.{_STAGE_TABLE} AS staged JOIN "{table.name}" AS stored '
                    f"ON {key_match} WHERE {differs}"
                )
            ).scalar_one()
            assignments = ", ".join(f'"{name}" = excluded."{name}"' for name in batch.values)
            changed = " OR ".join(f'"{table.name}"."{name}" IS NOT excluded."{name}"' for name in batch.values)
            # "WHERE true" keeps SQLite from parsing ON CONFLICT as a join constraint of the SELECT.
            await connection.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM temp.{_STAGE_TABLE} WHERE true '
                f"ON CONFLICT (ts_code, trade_date) DO UPDATE SET {assignments} WHERE {changed}"
            )
            await connection.exec_driver_sql(f"DROP TABLE temp.{_STAGE_TABLE}")
        return WriteCounts(inserted=inserted, updated=updated, unchanged=batch.size - inserted - updated)

    async def refresh_blocks(self) -> int:
        """SQLite keeps no blocks: its reads take the rows directly."""
        return 0

    async def read_bars(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date
    ) -> pd.DataFrame:
        table = bar_table(dataset)
        query = select(*table.columns).where(table.c.trade_date.between(start, end))
        if ts_codes is not None:
            query = query.where(in_values(table.c.ts_code, list(ts_codes), "sqlite"))
        query = query.order_by(table.c.ts_code, table.c.trade_date)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return _empty_bars(table)
        return _finish_bars(table, pd.DataFrame(rows, columns=[column.name for column in table.columns]))

    async def last_trade_date(self, dataset: str) -> date | None:
        table = bar_table(dataset)
        async with self._engine.connect() as connection:
            return await connection.scalar(select(func.max(table.c.trade_date)))


def _sqlite_rows(batch: _BarBatch) -> list[tuple]:
    """Python rows for executemany, dates as the ISO text SQLAlchemy's `Date` stores on SQLite."""
    codes = np.array(batch.codes, dtype=object)[batch.code_index]
    columns = [codes.tolist(), np.datetime_as_string(batch.trade_date, unit="D").tolist()]
    for values in batch.values.values():
        cells = values.astype(object)
        cells[np.isnan(values)] = None
        columns.append(cells.tolist())
    return list(zip(*columns, strict=True))
