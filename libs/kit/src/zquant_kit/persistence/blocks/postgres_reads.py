"""Reads of a `BlockLayout` on PostgreSQL: whole frames (CSV COPY into pyarrow), the newest date,
and columns as packed runs from the blocks.

A runs read streams tuples of (codes, packed big-endian dates, packed big-endian columns) with
binary ``COPY ... TO STDOUT``. Years whose blocks are current come straight from the block tables
(PostgreSQL copies bytes); years written since their last refresh are aggregated from the rows on
the fly (``string_agg(float8send(col), '')``). The server then concatenates up to
`RUNS_PER_PART` code-years into one COPY message, so the client handles a few dozen messages for
the whole market instead of one per row, and numpy reads each column with a single ``frombuffer``.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Sequence

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

from zquant_kit.persistence.blocks.batch import empty_frame, finish_frame
from zquant_kit.persistence.blocks.copy_decode import CopyTupleParser, PackedRuns, packed_runs
from zquant_kit.persistence.blocks.layout import BlockLayout
from zquant_kit.persistence.blocks.pg_binary import packed_aggregates, pg_day, quoted
from zquant_kit.persistence.blocks.pg_connection import PgSource, pg_connection

RUNS_PER_PART = 1024
"""(code, year) runs per streamed part: ~10 MB of daily bars, a few dozen COPY messages a market."""


def year_slices(start: dt.date, end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """[start, end] cut at year boundaries into at most `count` consecutive, non-overlapping
    ranges (a block holds one year, so no slice reads another's blocks)."""
    years = end.year - start.year + 1
    bounds = sorted({start.year + years * i // count for i in range(count)} | {end.year + 1})
    return [
        (max(start, dt.date(a, 1, 1)), min(end, dt.date(b - 1, 12, 31)))
        for a, b in itertools.pairwise(bounds)
    ]


class PostgresBlockReader:
    def __init__(self, source: PgSource, layout: BlockLayout) -> None:
        self._source = source
        self._layout = layout

    async def read_frame(
        self, dataset: str, ts_codes: Sequence[str] | None, start: dt.date, end: dt.date
    ) -> pd.DataFrame:
        """Every column of the rows in [start, end] of those codes (None: all), ordered by key.
        Streams the rows out as CSV into pyarrow's parser: far faster than fetching tuples."""
        table = self._layout.table(dataset)
        names = [column.name for column in table.columns]
        code_filter = sql.SQL("ts_code = ANY(%s) AND ") if ts_codes is not None else sql.SQL("")
        query = sql.SQL(
            "COPY (SELECT {} FROM {} WHERE {}trade_date BETWEEN %s AND %s ORDER BY ts_code, trade_date) "
            "TO STDOUT (FORMAT CSV)"
        ).format(quoted(names), sql.Identifier(self._layout.schema, table.name), code_filter)
        params = ([list(ts_codes)] if ts_codes is not None else []) + [start, end]
        payload = io.BytesIO()
        async with pg_connection(self._source) as connection, connection.cursor().copy(query, params) as copy:
            async for block in copy:
                payload.write(block)
        if not payload.getbuffer().nbytes:
            return empty_frame(table)
        payload.seek(0)
        column_types = {name: pa.float64() for name in names}
        column_types.update(ts_code=pa.string(), trade_date=pa.date32())
        arrow = pa_csv.read_csv(
            payload,
            read_options=pa_csv.ReadOptions(column_names=names),
            convert_options=pa_csv.ConvertOptions(column_types=column_types),
        )
        return finish_frame(table, arrow.to_pandas(date_as_object=False))

    async def last_date(self, dataset: str) -> dt.date | None:
        """Looks at the partitions of the last year first: no index leads with trade_date, and
        the newest row of {trade_date >= cutoff} is the newest overall whenever there is one."""
        table = self._layout.table(dataset)
        async with pg_connection(self._source) as connection:
            cursor = await connection.execute(
                sql.SQL(
                    "SELECT coalesce((SELECT max(trade_date) FROM {table} WHERE trade_date >= current_date - 366), "
                    "(SELECT max(trade_date) FROM {table}))"
                ).format(table=sql.Identifier(self._layout.schema, table.name))
            )
            row = await cursor.fetchone()
        newest: dt.date | None = row[0] if row else None
        return newest

    async def read_runs(
        self,
        dataset: str,
        ts_codes: Sequence[str] | None,
        start: dt.date,
        end: dt.date,
        columns: Sequence[str],
    ) -> list[PackedRuns]:
        """The rows of [start, end] as parts of up to `RUNS_PER_PART` (code, year) runs each. A run
        comes from the year's block when it is current, else from the year's rows aggregated per
        code on the fly. One repeatable-read transaction: the staleness read first is the one the
        blocks and rows match."""
        async with pg_connection(self._source) as connection:
            # Parts are numbered as runs stream by, then sorted on that number: a hash aggregate
            # would keep every part's state at once and spill the runs to disk.
            await connection.execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                "SET LOCAL enable_hashagg = off; SET LOCAL work_mem = '256MB'"
            )
            statement = await self._runs_statement(connection, dataset, ts_codes, start, end, columns)
            if statement is None:
                return []
            first, last = pg_day(start), pg_day(end)
            parts: list[PackedRuns] = []
            async with connection.cursor().copy(*statement) as copy:
                parser = CopyTupleParser()
                async for message in copy:
                    for fields in parser.feed(message):
                        part = packed_runs(fields, first, last)
                        if part is not None:
                            parts.append(part)
        return parts

    async def _runs_statement(
        self,
        connection: psycopg.AsyncConnection,
        dataset: str,
        ts_codes: Sequence[str] | None,
        start: dt.date,
        end: dt.date,
        columns: Sequence[str],
    ) -> tuple[sql.Composed, list[object]] | None:
        """The COPY of the read's runs and its parameters; None when the range holds no year."""
        layout = self._layout
        table = layout.table(dataset)
        codes: list[object] = [list(ts_codes)] if ts_codes is not None else []
        code_filter = sql.SQL("ts_code = ANY(%s::text[]) AND ") if ts_codes is not None else sql.SQL("")
        cursor = await connection.execute(
            sql.SQL("SELECT year FROM {} WHERE dataset = %s AND year BETWEEN %s AND %s").format(
                sql.Identifier(layout.schema, layout.staleness)
            ),
            (dataset, start.year, end.year),
        )
        stale = sorted(year for (year,) in await cursor.fetchall())
        fresh = [year for year in range(start.year, end.year + 1) if year not in stale]
        runs: list[sql.Composable] = []
        params: list[object] = []
        if fresh:
            runs.append(
                sql.SQL("SELECT ts_code, trade_dates, {} FROM {} WHERE {}year = ANY(%s::smallint[])").format(
                    quoted(columns),
                    sql.Identifier(layout.schema, layout.block_table_name(dataset)),
                    code_filter,
                )
            )
            params += [*codes, fresh]
        packed = packed_aggregates(table, columns)
        for year in stale:
            runs.append(
                sql.SQL(
                    "SELECT ts_code, {} FROM {} WHERE {}trade_date BETWEEN %s AND %s GROUP BY ts_code"
                ).format(packed, sql.Identifier(layout.schema, table.name), code_filter)
            )
            params += [*codes, max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))]
        if not runs:
            return None
        statement = sql.SQL(
            "COPY (SELECT string_agg(convert_to(ts_code, 'UTF8'), ''), string_agg(int4send(octet_length(ts_code)), ''), "
            "string_agg(int4send(length(trade_dates) / 4), ''), string_agg(trade_dates, ''), {columns} "
            "FROM (SELECT runs.*, (row_number() OVER () - 1) / {per_part} AS part FROM ({runs}) AS runs "
            "(ts_code, trade_dates, {names})) AS numbered GROUP BY part) TO STDOUT (FORMAT BINARY)"
        ).format(
            columns=sql.SQL(", ").join(
                sql.SQL("string_agg({}, '')").format(sql.Identifier(n)) for n in columns
            ),
            per_part=sql.Literal(RUNS_PER_PART),
            runs=sql.SQL(" UNION ALL ").join(runs),
            names=quoted(columns),
        )
        return statement, params
