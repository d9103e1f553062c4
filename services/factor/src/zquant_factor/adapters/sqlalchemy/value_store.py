"""`FactorValueStore` over packed per-(series, year) blocks (`value_blocks`): the write's plan and the reads,
shared by both stores, and the SQLite one (the all-in-one mode, blocks by one bulk upsert, no journal); the
PostgreSQL store is `value_store_postgres`. A panel goes in as one block per (code, year) it touches, in one
transaction, never a row per value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from zquant_factor.adapters.sqlalchemy.value_blocks import (
    BlockGroup,
    BlockKey,
    PackedBlock,
    PanelWrite,
    SeriesPiece,
    StoredBlock,
    block_row,
    checked_panels,
    key,
    merged,
    panel_of,
    pieces_of,
    rows_of_pieces,
)
from zquant_factor.adapters.sqlalchemy.value_days import day_number
from zquant_factor.adapters.sqlalchemy.value_rows import (
    BlockScope,
    delete_factor_values,
    stored_blocks,
    stored_ends,
)
from zquant_factor.adapters.sqlalchemy.value_tables import BLOCK_COLUMNS, value_blocks
from zquant_factor.application.value_ports import FactorValueStore
from zquant_kit.persistence.engine import reader
from zquant_kit.persistence.upsert import upsert


def codes_query(factor_id: str, column: str) -> Select[Any]:
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


def scope_of(blocks: list[PackedBlock]) -> BlockScope:
    return BlockScope(
        sorted({b.column for b in blocks}),
        sorted({b.year for b in blocks}),
        sorted({b.ts_code for b in blocks}),
    )


def scope_of_groups(groups: list[BlockGroup]) -> BlockScope:
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
        ends = await self._stored_ends(connection, factor_id, scope_of_groups(groups))
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
            ends = await self._stored_ends(connection, factor_id, scope_of(blocks))
        fresh = [block for block in blocks if key(block) not in ends]
        tails = [block for block in blocks if ends.get(key(block), block.first_day) < block.first_day]
        overlapping = [
            block for block in blocks if ends.get(key(block), block.first_day - 1) >= block.first_day
        ]
        if overlapping:
            stored = await self._stored_blocks(connection, factor_id, scope_of(overlapping))
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
        rows = rows_of_pieces(blocks, wanted, day_number(start), day_number(end))
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
            return sorted((await connection.scalars(codes_query(factor_id, column))).all())

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

    async def _read_blocks(self, connection: AsyncConnection, wanted: BlockRange) -> list[SeriesPiece]:
        c = value_blocks.c
        query = select(c.ts_code, c.year, c.trade_days, c.packed_values).where(
            c.factor_id == wanted.factor_id,
            c.column_name == wanted.column,
            c.year.between(wanted.first_year, wanted.last_year),
            c.ts_code.in_(wanted.codes),
        )
        return pieces_of((row[0], row[1], row[2], row[3]) for row in await connection.execute(query))

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
        stored = await self._stored_blocks(connection, factor_id, scope_of(blocks))
        await self._replace(connection, factor_id, [merged(b, stored[key(b)]) for b in blocks])


class SqliteFactorValueStore(BlockValueStore):
    """The base's SQLAlchemy Core as it is."""
