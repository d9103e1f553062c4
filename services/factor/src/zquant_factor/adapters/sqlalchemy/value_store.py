"""`FactorValueStore` over packed per-(series, year) blocks (`value_blocks`): PostgreSQL (blocks by binary
COPY, daily appends kept in an append journal folded into the blocks every few weeks, `value_journal`) and
SQLite (the all-in-one mode, blocks by one bulk upsert, no journal).
A panel goes in as one block per (code, year) it touches, in one transaction, never a row per value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from zquant_factor.adapters.sqlalchemy import value_journal_sql as journal_sql
from zquant_factor.adapters.sqlalchemy.value_blocks import (
    BlockGroup,
    BlockKey,
    BlockRow,
    PackedBlock,
    PanelWrite,
    StoredBlock,
    block_row,
    checked_panels,
    decoded,
    key,
    merged,
    panel_of,
    rows_of_blocks,
)
from zquant_factor.adapters.sqlalchemy.value_copy import copy_groups
from zquant_factor.adapters.sqlalchemy.value_journal import JOURNAL_MAX_DATES, entry_blocks, fold_at
from zquant_factor.adapters.sqlalchemy.value_rows import (
    BlockScope,
    day_number,
    delete_factor_values,
    stored_blocks,
    stored_ends,
)
from zquant_factor.adapters.sqlalchemy.value_tables import BLOCK_COLUMNS, BLOCKS, value_blocks
from zquant_factor.application.value_ports import FactorValueStore
from zquant_kit.persistence.engine import is_sqlite, reader
from zquant_kit.persistence.upsert import upsert


def _codes_query(factor_id: str, column: str) -> Select[Any]:
    c = value_blocks.c
    return select(c.ts_code).distinct().where(c.factor_id == factor_id, c.column_name == column)


@dataclass(frozen=True, slots=True)
class BlockRange:
    """The blocks a read fetches: these codes' of one (factor, column), years first to last."""

    factor_id: str
    column: str
    codes: list[str]
    first_year: int
    last_year: int


def _scope_of(blocks: list[PackedBlock]) -> BlockScope:
    return BlockScope(
        sorted({b.column for b in blocks}),
        sorted({b.year for b in blocks}),
        sorted({b.ts_code for b in blocks}),
    )


def _scope_of_groups(groups: list[BlockGroup]) -> BlockScope:
    return BlockScope(
        sorted({g.column for g in groups}),
        sorted({g.year for g in groups}),
        sorted({code for g in groups for code in g.codes}),
    )


class BlockValueStore(FactorValueStore):
    """The write's plan and the reads, in SQLAlchemy Core; this base is the SQLite store's whole SQL, the
    PostgreSQL store replaces the bulk parts."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def write(
        self, factor_id: str, column: str, codes: Sequence[str], dates: np.ndarray, values: np.ndarray
    ) -> int:
        return await self.write_columns(factor_id, codes, dates, {column: values})

    async def write_columns(
        self, factor_id: str, codes: Sequence[str], dates: np.ndarray, panels: Mapping[str, np.ndarray]
    ) -> int:
        """New series-years are inserted, those whose dates all follow the stored block's appended, the
        others merged with the stored block and replaced; one transaction, one writer per column at a time."""
        write = checked_panels(codes, dates, panels)
        if write.days.size == 0 or not codes or not write.panels:
            return 0
        async with self._engine.begin() as connection:
            await self._lock_columns(connection, factor_id, write.columns)
            await self._store(connection, factor_id, write)
        return sum(panel.size for panel in write.panels.values())

    async def _store(self, connection: AsyncConnection, factor_id: str, write: PanelWrite) -> None:
        """The checked panels into the blocks, under the columns' locks."""
        await self._write_groups(connection, factor_id, write.groups())

    async def _write_groups(
        self, connection: AsyncConnection, factor_id: str, groups: list[BlockGroup]
    ) -> None:
        """Series-years not stored yet (all of a first calculation) go in by a group's bulk insert; those
        stored are appended to or merged with block by block."""
        ends = await self._stored_ends(connection, factor_id, _scope_of_groups(groups))
        fresh: list[BlockGroup] = []
        stored: list[PackedBlock] = []
        for group in groups:
            new = np.fromiter((k not in ends for k in group.block_keys()), dtype=bool, count=len(group.codes))
            if new.any():
                fresh.append(group if new.all() else group.subset(new))
            if not new.all():
                stored.extend(group.subset(~new).blocks())
        if fresh:
            await self._insert_groups(connection, factor_id, fresh)
        if stored:
            await self._write_blocks(connection, factor_id, stored, ends)

    async def _write_blocks(
        self,
        connection: AsyncConnection,
        factor_id: str,
        blocks: list[PackedBlock],
        ends: dict[BlockKey, int] | None = None,
    ) -> None:
        if ends is None:
            ends = await self._stored_ends(connection, factor_id, _scope_of(blocks))
        fresh = [block for block in blocks if key(block) not in ends]
        tails = [block for block in blocks if ends.get(key(block), block.first_day) < block.first_day]
        overlapping = [
            block for block in blocks if ends.get(key(block), block.first_day - 1) >= block.first_day
        ]
        if overlapping:
            stored = await self._stored_blocks(connection, factor_id, _scope_of(overlapping))
            await self._replace(connection, factor_id, [merged(b, stored[key(b)]) for b in overlapping])
        if fresh:
            await self._insert(connection, factor_id, fresh)
        if tails:
            await self._append(connection, factor_id, tails)

    async def read(
        self, factor_id: str, column: str, codes: Sequence[str] | None, start: dt.date, end: dt.date
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        wanted = list(codes) if codes is not None else await self._stored_codes(factor_id, column)
        if not wanted or start > end:
            return wanted, np.array([], dtype="datetime64[D]"), np.empty((0, len(wanted)))
        async with reader(self._engine).connect() as connection:
            blocks = await self._read_blocks(
                connection, BlockRange(factor_id, column, wanted, start.year, end.year)
            )
        rows = rows_of_blocks(blocks, wanted, day_number(start), day_number(end))
        dates, panel = panel_of(rows, len(wanted))
        return wanted, dates, panel

    async def last_date(self, factor_id: str, column: str) -> dt.date | None:
        """The newest block's last date: a block only ever grows, so a write of older dates never moves it back."""
        c = value_blocks.c
        mine = (c.factor_id == factor_id, c.column_name == column)
        newest_year = select(func.max(c.year)).where(*mine).scalar_subquery()
        query = select(func.max(c.last_date)).where(*mine, c.year == newest_year)
        async with reader(self._engine).connect() as connection:
            newest: dt.date | None = await connection.scalar(query)
        return newest

    async def delete_factor(self, factor_id: str) -> None:
        async with self._engine.begin() as connection:
            await delete_factor_values(connection, factor_id)

    async def _stored_codes(self, factor_id: str, column: str) -> list[str]:
        async with reader(self._engine).connect() as connection:
            return sorted((await connection.scalars(_codes_query(factor_id, column))).all())

    async def _lock_columns(self, connection: AsyncConnection, factor_id: str, columns: list[str]) -> None:
        """Until the transaction ends, no other write plans against these columns' blocks. SQLite already
        runs one writing transaction at a time."""

    async def _stored_ends(
        self, connection: AsyncConnection, factor_id: str, scope: BlockScope
    ) -> dict[BlockKey, int]:
        return await stored_ends(connection, factor_id, scope)

    async def _stored_blocks(
        self, connection: AsyncConnection, factor_id: str, scope: BlockScope
    ) -> dict[BlockKey, StoredBlock]:
        return await stored_blocks(connection, factor_id, scope)

    async def _read_blocks(self, connection: AsyncConnection, wanted: BlockRange) -> list[BlockRow]:
        c = value_blocks.c
        query = select(c.ts_code, c.trade_days, c.packed_values).where(
            c.factor_id == wanted.factor_id,
            c.column_name == wanted.column,
            c.year.between(wanted.first_year, wanted.last_year),
            c.ts_code.in_(wanted.codes),
        )
        return [(row[0], row[1], row[2]) for row in await connection.execute(query)]

    async def _insert(self, connection: AsyncConnection, factor_id: str, blocks: list[PackedBlock]) -> None:
        await self._replace(connection, factor_id, blocks)

    async def _insert_groups(
        self, connection: AsyncConnection, factor_id: str, groups: list[BlockGroup]
    ) -> None:
        await self._insert(connection, factor_id, [block for group in groups for block in group.blocks()])

    async def _replace(self, connection: AsyncConnection, factor_id: str, blocks: list[PackedBlock]) -> None:
        statement = upsert(connection.engine, value_blocks, BLOCK_COLUMNS[:4], BLOCK_COLUMNS[4:])
        rows = [dict(zip(BLOCK_COLUMNS, block_row(factor_id, block), strict=True)) for block in blocks]
        await connection.execute(statement, rows)

    async def _append(self, connection: AsyncConnection, factor_id: str, blocks: list[PackedBlock]) -> None:
        """Blocks whose dates all follow their stored block's."""
        stored = await self._stored_blocks(connection, factor_id, _scope_of(blocks))
        await self._replace(connection, factor_id, [merged(b, stored[key(b)]) for b in blocks])


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
_CONCATENATE = "trade_days = stored.trade_days || tail.trade_days, packed_values = stored.packed_values || tail.packed_values"


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
            found = set((await connection.scalars(_codes_query(factor_id, column))).all())
            entries = await journal_sql.entries(
                _driver(connection), factor_id, column, dt.date.min, dt.date.max
            )
        return sorted(found.union(*(entry.codes for entry in entries)))

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
        cursor = await _driver(connection).execute(
            f"SELECT column_name, year, ts_code, last_date - DATE '1970-01-01' FROM {BLOCKS} WHERE factor_id = %s "
            f"AND {_in_scope(BLOCKS)}",
            (factor_id, scope.columns, scope.years),
        )
        codes = set(scope.codes)
        return {
            (column, year, code): end for column, year, code, end in await cursor.fetchall() if code in codes
        }

    async def _read_blocks(self, connection: AsyncConnection, wanted: BlockRange) -> list[BlockRow]:
        await _one_snapshot(connection)
        cursor = (
            await _driver(connection)
            .cursor(binary=True)
            .execute(
                f"SELECT ts_code, trade_days, packed_values FROM {BLOCKS} WHERE factor_id = %s "
                "AND column_name = %s AND year BETWEEN %s AND %s AND ts_code = ANY(%s::text[])",
                (wanted.factor_id, wanted.column, wanted.first_year, wanted.last_year, wanted.codes),
            )
        )
        blocks: list[BlockRow] = await cursor.fetchall()
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
        """The tails concatenated onto the stored bytes, which never leave the server."""
        await self._update_from_stage(_driver(connection), factor_id, blocks, _CONCATENATE)

    async def _update_from_stage(
        self, raw: psycopg.AsyncConnection, factor_id: str, blocks: list[PackedBlock], assign: str
    ) -> None:
        """The blocks copied into a stage, then one UPDATE of the stored ones: a key never changes, so
        each update is a heap-only tuple, no index entry rewritten. The stage is analysed and the stored side
        bounded to the blocks' key range, so the join walks the primary key instead of scanning every block."""
        scope = _scope_of(blocks)
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


class SqliteFactorValueStore(BlockValueStore):
    """The base's SQLAlchemy Core as it is."""


def factor_value_store(engine: AsyncEngine, url: str) -> BlockValueStore:
    """The SQLite store for an all-in-one database, else the PostgreSQL one."""
    return SqliteFactorValueStore(engine) if is_sqlite(url) else PostgresFactorValueStore(engine)
