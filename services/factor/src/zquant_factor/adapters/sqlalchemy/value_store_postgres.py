"""The PostgreSQL `FactorValueStore`: blocks in by binary COPY (a first calculation's numpy-encoded a group at a
time, `value_copy`), daily appends kept in an append journal folded into the blocks every few weeks
(`value_journal`), the newest date of each column in `value_heads`, writes serialised per column."""

from __future__ import annotations

import datetime as dt

import psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from zquant_factor.adapters.sqlalchemy import value_journal_sql as journal_sql
from zquant_factor.adapters.sqlalchemy.value_blocks import (
    BlockGroup,
    BlockKey,
    PackedBlock,
    PanelWrite,
    SeriesPiece,
    StoredBlock,
    block_row,
    decoded,
    key,
    pieces_of,
)
from zquant_factor.adapters.sqlalchemy.value_copy import copy_groups
from zquant_factor.adapters.sqlalchemy.value_journal import JOURNAL_MAX_DATES, entry_blocks, fold_at
from zquant_factor.adapters.sqlalchemy.value_rows import BlockScope
from zquant_factor.adapters.sqlalchemy.value_store import (
    BlockRange,
    BlockValueStore,
    SqliteFactorValueStore,
    codes_query,
    scope_of,
)
from zquant_factor.adapters.sqlalchemy.value_tables import BLOCK_COLUMNS, BLOCKS
from zquant_kit.persistence.engine import is_sqlite, reader


def _driver(connection: AsyncConnection) -> psycopg.AsyncConnection:
    """The psycopg connection under a SQLAlchemy one, in its transaction."""
    raw = connection.sync_connection.connection.driver_connection if connection.sync_connection else None
    if not isinstance(raw, psycopg.AsyncConnection):
        raise TypeError(f"the value store needs the psycopg driver, not {type(raw).__name__}")
    return raw


async def _one_snapshot(connection: AsyncConnection) -> None:
    """A read's first statement: its blocks and journal entries from one snapshot, so a fold committing in
    between (entries moved into the blocks, or folded and overwritten) neither hides nor repeats a value."""
    await _driver(connection).execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _in_scope(table: str) -> str:
    """`table`'s blocks of some columns and years (after `factor_id = %s`): a range of the primary key's prefix,
    which the index walks. A `ts_code = ANY(…)` of thousands of codes would make the planner give up the
    prefix and filter the factor's every block instead, so the codes are matched by the join or in Python."""
    return f"{table}.column_name = ANY(%s::text[]) AND {table}.year = ANY(%s::int2[])"


_REWRITE = "trade_days = tail.trade_days, packed_values = tail.packed_values"
_CONCATENATE = "trade_days = tail.trade_days, packed_values = stored.packed_values || tail.packed_values"
"""A tail's bitmap already holds the stored block's dates too (`PackedBlock.with_dates_of`)."""


class PostgresFactorValueStore(BlockValueStore):
    """Blocks in by binary COPY, codes as one array parameter, a short append kept in the append journal
    (`value_journal`: one row per column, folded into the blocks now and then), the newest date of each column
    in `value_heads`, and writes serialised per column by a transaction advisory lock."""

    _STAGE = "value_block_stage"
    _TYPES = ("varchar", "varchar", "int2", "varchar", "date", "bytea", "bytea")

    async def _store(self, connection: AsyncConnection, factor_id: str, write: PanelWrite) -> None:
        """A short write past every column's newest date goes to the journal (folding a column that has
        reached `fold_at` entries); any other first folds the columns' journals, then goes to the blocks."""
        raw = _driver(connection)
        newest = await journal_sql.heads(raw, factor_id, write.columns)
        first: dt.date = write.days[0].item()
        if write.days.size <= JOURNAL_MAX_DATES and all(
            column in newest and newest[column] < first for column in write.columns
        ):
            held = await journal_sql.append(raw, factor_id, write)
            await self._fold(
                connection, factor_id, [c for c in write.columns if held[c] >= fold_at(factor_id, c)]
            )
        else:
            await self._fold(connection, factor_id, write.columns)
            await super()._store(connection, factor_id, write)
        await journal_sql.advance_heads(raw, factor_id, write.columns, write.days[-1].item())

    async def _fold(self, connection: AsyncConnection, factor_id: str, columns: list[str]) -> None:
        """The columns' journal entries into their blocks: all after the blocks, so appended or inserted."""
        if columns:
            blocks = entry_blocks(await journal_sql.taken(_driver(connection), factor_id, columns))
            if blocks:
                await self._write_blocks(connection, factor_id, blocks)

    async def last_date(self, factor_id: str, column: str) -> dt.date | None:
        async with reader(self._engine).connect() as connection:
            newest = await journal_sql.heads(_driver(connection), factor_id, [column])
        return newest.get(column)

    async def _stored_codes(self, factor_id: str, column: str) -> list[str]:
        """Of the blocks and the journal, in one snapshot (a fold moves codes from one to the other)."""
        async with reader(self._engine).connect() as connection:
            await _one_snapshot(connection)
            found = set((await connection.scalars(codes_query(factor_id, column))).all())
            journaled = await journal_sql.codes(_driver(connection), factor_id, column)
        return sorted(found | journaled)

    async def _lock_columns(self, connection: AsyncConnection, factor_id: str, columns: list[str]) -> None:
        """One advisory lock per column, taken in name order so two writers never wait on each other in a cycle.
        Also turns off JIT compilation for the write: its statements are short key lookups, which the planner's
        cost estimate over the whole table would otherwise compile for longer than they run."""
        await _driver(connection).execute("SET LOCAL jit = off")
        await _driver(connection).execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(name, 0)) "
            "FROM (SELECT name FROM unnest(%s::text[]) AS name ORDER BY name) AS names",
            ([f"{BLOCKS}:{factor_id}:{column}" for column in columns],),
        )

    async def _stored_ends(
        self, connection: AsyncConnection, factor_id: str, scope: BlockScope
    ) -> dict[BlockKey, int]:
        """The span of the (sorted) codes bounds each prefix's range: a calculation's chunks are consecutive codes,
        so each chunk's write reads the ends of its own blocks, not those of every chunk before it."""
        cursor = await _driver(connection).execute(
            f"SELECT column_name, year, ts_code, last_date - DATE '1970-01-01' FROM {BLOCKS} WHERE factor_id = %s "
            f"AND {_in_scope(BLOCKS)} AND ts_code BETWEEN %s AND %s",
            (factor_id, scope.columns, scope.years, scope.codes[0], scope.codes[-1]),
        )
        codes = set(scope.codes)
        return {
            (column, year, code): end for column, year, code, end in await cursor.fetchall() if code in codes
        }

    async def _read_blocks(self, connection: AsyncConnection, wanted: BlockRange) -> list[SeriesPiece]:
        await _one_snapshot(connection)
        cursor = (
            await _driver(connection)
            .cursor(binary=True)
            .execute(
                f"SELECT ts_code, year, trade_days, packed_values FROM {BLOCKS} WHERE factor_id = %s "
                "AND column_name = %s AND year BETWEEN %s AND %s AND ts_code = ANY(%s::text[])",
                (wanted.factor_id, wanted.column, wanted.first_year, wanted.last_year, wanted.codes),
            )
        )
        blocks = pieces_of(await cursor.fetchall())
        span = (dt.date(wanted.first_year, 1, 1), dt.date(wanted.last_year, 12, 31))
        entries = await journal_sql.entries(_driver(connection), wanted.factor_id, wanted.column, *span)
        return blocks + journal_sql.pieces(entries, wanted.codes)

    async def _stored_blocks(
        self, connection: AsyncConnection, factor_id: str, scope: BlockScope
    ) -> dict[BlockKey, StoredBlock]:
        cursor = (
            await _driver(connection)
            .cursor(binary=True)
            .execute(
                f"SELECT column_name, year, ts_code, trade_days, packed_values FROM {BLOCKS} WHERE factor_id = %s "
                f"AND {_in_scope(BLOCKS)} AND ts_code = ANY(%s::text[])",
                (factor_id, scope.columns, scope.years, scope.codes),
            )
        )
        return decoded(await cursor.fetchall())

    async def _insert(self, connection: AsyncConnection, factor_id: str, blocks: list[PackedBlock]) -> None:
        await self._copy(_driver(connection), BLOCKS, factor_id, blocks)

    async def _insert_groups(
        self, connection: AsyncConnection, factor_id: str, groups: list[BlockGroup]
    ) -> None:
        await copy_groups(_driver(connection), BLOCKS, factor_id, groups)

    async def _replace(self, connection: AsyncConnection, factor_id: str, blocks: list[PackedBlock]) -> None:
        """Stored blocks rewritten whole (merged under the columns' locks)."""
        await self._update_from_stage(_driver(connection), factor_id, blocks, _REWRITE)

    async def _append(self, connection: AsyncConnection, factor_id: str, blocks: list[PackedBlock]) -> None:
        """The tails' values concatenated onto the stored bytes, which never leave the server; only the stored
        blocks' date bitmaps (46 bytes each) are fetched, to be united with the tails'."""
        raw = _driver(connection)
        scope = scope_of(blocks)
        cursor = await raw.cursor(binary=True).execute(
            f"SELECT column_name, year, ts_code, trade_days FROM {BLOCKS} WHERE factor_id = %s "
            f"AND {_in_scope(BLOCKS)} AND ts_code = ANY(%s::text[])",
            (factor_id, scope.columns, scope.years, scope.codes),
        )
        stored = {(column, year, code): bytes(days) for column, year, code, days in await cursor.fetchall()}
        united = [block.with_dates_of(stored[key(block)]) for block in blocks]
        await self._update_from_stage(raw, factor_id, united, _CONCATENATE)

    async def _update_from_stage(
        self, raw: psycopg.AsyncConnection, factor_id: str, blocks: list[PackedBlock], assign: str
    ) -> None:
        """The blocks copied into a stage, then one UPDATE of the stored ones: a key never changes, so
        each update is a heap-only tuple, no index entry rewritten. The stage is analysed and the stored side
        bounded to the blocks' key range, so the join walks the primary key instead of scanning every block."""
        scope = scope_of(blocks)
        await raw.execute(f"CREATE TEMP TABLE {self._STAGE} (LIKE {BLOCKS}) ON COMMIT DROP")
        await self._copy(raw, self._STAGE, factor_id, blocks)
        await raw.execute(f"ANALYZE {self._STAGE}")
        await raw.execute(
            f"UPDATE {BLOCKS} AS stored SET last_date = tail.last_date, {assign} "
            f"FROM {self._STAGE} AS tail WHERE stored.factor_id = tail.factor_id "
            "AND stored.column_name = tail.column_name AND stored.year = tail.year "
            f"AND stored.ts_code = tail.ts_code AND stored.factor_id = %s AND {_in_scope('stored')}",
            (factor_id, scope.columns, scope.years),
        )
        await raw.execute(f"DROP TABLE {self._STAGE}")

    async def _copy(
        self, raw: psycopg.AsyncConnection, target: str, factor_id: str, blocks: list[PackedBlock]
    ) -> None:
        async with raw.cursor().copy(
            f"COPY {target} ({', '.join(BLOCK_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(list(self._TYPES))
            for block in blocks:
                await copy.write_row(block_row(factor_id, block))


def factor_value_store(engine: AsyncEngine, url: str) -> BlockValueStore:
    """The SQLite store for an all-in-one database, else the PostgreSQL one."""
    return SqliteFactorValueStore(engine) if is_sqlite(url) else PostgresFactorValueStore(engine)
