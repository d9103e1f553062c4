"""Bulk bar stores: PostgreSQL via binary COPY with per-(code, year) blocks, SQLite for the
all-in-one mode. The machinery is the kit's (`zquant_kit.persistence.blocks`); this names the bar
tables (`BAR_BLOCKS`) and answers `BarStore`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_kit.persistence.blocks.pg_connection import PgSource
from zquant_kit.persistence.blocks.postgres_reads import PostgresBlockReader
from zquant_kit.persistence.blocks.postgres_writes import PostgresBlockWriter
from zquant_kit.persistence.blocks.sqlite_rows import SqliteRowStore
from zquant_marketdata.adapters.sqlalchemy.bar_tables import BAR_BLOCKS
from zquant_marketdata.application.bar_store_port import BarStore


class PostgresBulkBarStore(PostgresBlockWriter, BarStore):
    """`BarStore` on PostgreSQL, writing with binary COPY.

    Takes a SQLAlchemy `AsyncEngine` (psycopg driver; each call checks out a
    pooled connection) or a `psycopg.AsyncConnection` the caller owns; on the
    latter a write joins an open transaction as a savepoint.
    """

    def __init__(self, source: PgSource) -> None:
        super().__init__(source, BAR_BLOCKS)
        self._reader = PostgresBlockReader(source, BAR_BLOCKS)

    async def read_bars(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date
    ) -> pd.DataFrame:
        return await self._reader.read_frame(dataset, ts_codes, start, end)

    async def last_trade_date(self, dataset: str) -> date | None:
        return await self._reader.last_date(dataset)


class SqliteBulkBarStore(SqliteRowStore, BarStore):
    """`BarStore` on SQLite (aiosqlite) for the all-in-one mode: correct, not fast."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, BAR_BLOCKS)

    async def read_bars(
        self, dataset: str, ts_codes: Sequence[str] | None, start: date, end: date
    ) -> pd.DataFrame:
        return await self.read_frame(dataset, ts_codes, start, end)

    async def last_trade_date(self, dataset: str) -> date | None:
        return await self.last_date(dataset)

    async def refresh_blocks(self) -> int:
        """SQLite keeps no blocks: its reads take the rows directly."""
        return 0

