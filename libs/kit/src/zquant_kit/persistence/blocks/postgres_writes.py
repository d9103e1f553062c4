"""Writes and block refreshes of a `BlockLayout` on PostgreSQL, with binary COPY.

A first load of a (codes x dates) range copies straight into the table; anything else goes
through a temporary staging table and set-based SQL, which also yields exact
inserted/updated/unchanged counts. Every write marks its years stale in its own transaction;
`refresh_blocks` rebuilds them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import pandas as pd
import psycopg
from psycopg import sql

from zquant_kit.persistence.blocks.batch import KeyedBatch, prepare_batch
from zquant_kit.persistence.blocks.copy_encode import copy_binary_chunks
from zquant_kit.persistence.blocks.counts import NOTHING_WRITTEN, WriteCounts
from zquant_kit.persistence.blocks.layout import BlockLayout
from zquant_kit.persistence.blocks.pg_binary import packed_aggregates, quoted
from zquant_kit.persistence.blocks.pg_connection import PgSource, pg_connection

_log = logging.getLogger(__name__)

STAGE_TABLE = "bar_stage"


async def _mark_years_stale(
    connection: psycopg.AsyncConnection, layout: BlockLayout, dataset: str, years: Sequence[int]
) -> None:
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
        ).format(sql.Identifier(layout.schema, layout.staleness)),
        (dataset, sorted(years)),
    )


class PostgresBlockWriter:
    """Upserts frames into a layout's row tables and keeps its blocks refreshable."""

    def __init__(self, source: PgSource, layout: BlockLayout) -> None:
        self._source = source
        self._layout = layout

    async def write(self, dataset: str, frame: pd.DataFrame) -> WriteCounts:
        """Upserts the frame's rows in one transaction: all of them or none (see `prepare_batch`)."""
        batch = prepare_batch(self._layout.table(dataset), frame)
        if batch.size == 0:
            return NOTHING_WRITTEN
        async with pg_connection(self._source) as connection, connection.transaction():
            if not await self._holds_rows_in_range(connection, batch):
                try:
                    async with connection.transaction():
                        await self._copy(
                            connection, sql.Identifier(self._layout.schema, batch.table.name), batch
                        )
                        await _mark_years_stale(connection, self._layout, dataset, batch.years())
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
        marker = sql.Identifier(self._layout.schema, self._layout.staleness)
        rebuilt = 0
        async with pg_connection(self._source) as connection:
            async with connection.transaction():
                cursor = await connection.execute(
                    sql.SQL("SELECT dataset, year FROM {} ORDER BY dataset, year").format(marker)
                )
                pending = [
                    (dataset, year)
                    for dataset, year in await cursor.fetchall()
                    if dataset in self._layout.tables
                ]
            for dataset, year in pending:
                async with connection.transaction():
                    cursor = await connection.execute(
                        sql.SQL("SELECT 1 FROM {} WHERE dataset = %s AND year = %s FOR UPDATE").format(
                            marker
                        ),
                        (dataset, year),
                    )
                    if await cursor.fetchone() is None:
                        continue
                    await self._rebuild_year(connection, dataset, year)
                    await connection.execute(
                        sql.SQL("DELETE FROM {} WHERE dataset = %s AND year = %s").format(marker),
                        (dataset, year),
                    )
                rebuilt += 1
        if rebuilt:
            _log.info("rebuilt %d stale %s block year(s)", rebuilt, self._layout.noun)
        return rebuilt

    async def _rebuild_year(self, connection: psycopg.AsyncConnection, dataset: str, year: int) -> None:
        layout = self._layout
        table = layout.table(dataset)
        names = layout.value_columns(dataset)
        blocks = sql.Identifier(layout.schema, layout.block_table_name(dataset))
        await connection.execute(sql.SQL("DELETE FROM {} WHERE year = %s").format(blocks), (year,))
        await connection.execute(
            sql.SQL(
                "INSERT INTO {blocks} (ts_code, year, trade_dates, {names}) "
                "SELECT ts_code, %s, {packed} FROM {rows} "
                "WHERE trade_date >= %s AND trade_date < %s GROUP BY ts_code"
            ).format(
                blocks=blocks,
                names=quoted(names),
                packed=packed_aggregates(table, names),
                rows=sql.Identifier(layout.schema, table.name),
            ),
            (year, date(year, 1, 1), date(year + 1, 1, 1)),
        )

    async def _holds_rows_in_range(self, connection: psycopg.AsyncConnection, batch: KeyedBatch) -> bool:
        """Whether any (code, date) of the batch's codes x date range is stored already."""
        first_day, last_day = batch.date_bounds()
        query = sql.SQL(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE ts_code = ANY(%s) AND trade_date BETWEEN %s AND %s)"
        ).format(sql.Identifier(self._layout.schema, batch.table.name))
        cursor = await connection.execute(query, (batch.codes, first_day, last_day))
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def _analyze_unanalyzed_partitions(
        self, connection: psycopg.AsyncConnection, batch: KeyedBatch
    ) -> None:
        """A partition filled by COPY has no statistics until autovacuum gets to it; an upsert planned on
        none joins the stage badly (measured 7x slower), so the first merge into it analyzes it."""
        first_day, last_day = batch.date_bounds()
        names = [f"{batch.table.name}_y{year}" for year in range(first_day.year, last_day.year + 1)]
        cursor = await connection.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.reltuples < 0",
            (self._layout.schema, names),
        )
        stale = await cursor.fetchall()
        if stale:
            # Row counts and rough distributions are all this plan needs: a small sample keeps it quick.
            await connection.execute("SET LOCAL default_statistics_target = 10")
        for (name,) in stale:
            await connection.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(self._layout.schema, name)))

    async def _copy(
        self, connection: psycopg.AsyncConnection, target: sql.Identifier, batch: KeyedBatch
    ) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(target, quoted(batch.columns))
        async with connection.cursor().copy(statement) as copy:
            for chunk in copy_binary_chunks(batch):
                await copy.write(chunk)

    async def _merge_via_staging(self, connection: psycopg.AsyncConnection, batch: KeyedBatch) -> WriteCounts:
        """Insert the new keys, then update the stored rows that differ; each statement's row
        count is exact even when another writer races on the same keys."""
        target = sql.Identifier(self._layout.schema, batch.table.name)
        stage = sql.Identifier(STAGE_TABLE)
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
            sql.SQL(
                "INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT (ts_code, trade_date) DO NOTHING"
            ).format(target, quoted(batch.columns), quoted(batch.columns), stage)
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
        inserted_rows, updated_rows = inserted.rowcount, updated.rowcount
        await connection.execute(sql.SQL("DROP TABLE {}").format(stage))
        if inserted_rows or updated_rows:
            # The batch's years, not only the changed rows' (a RETURNING of those cost ~5% of the
            # upsert): a refresh may rebuild a year for nothing, never miss one.
            await _mark_years_stale(connection, self._layout, batch.table.name, batch.years())
        counts = WriteCounts(
            inserted=inserted_rows, updated=updated_rows, unchanged=batch.size - inserted_rows - updated_rows
        )
        _log.debug("%s: merged %d rows via staging: %s", batch.table.name, batch.size, counts)
        return counts
