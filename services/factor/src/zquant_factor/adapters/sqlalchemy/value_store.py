"""`FactorValueStore` over the kit's block stores: PostgreSQL (binary COPY, per-(code, year) packed blocks)
and SQLite (rows only, for the all-in-one mode). A panel goes in as one bulk upsert of dates × codes rows
keyed by series code (`value_tables`), never a statement or a commit per value."""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from zquant_factor.adapters.sqlalchemy.value_rows import delete_factor_values, record_series
from zquant_factor.adapters.sqlalchemy.value_tables import DATASET, VALUE_BLOCKS, series_code, value_series
from zquant_factor.application.value_ports import FactorValueStore
from zquant_kit.persistence.blocks.counts import WriteCounts
from zquant_kit.persistence.blocks.postgres_reads import PostgresBlockReader
from zquant_kit.persistence.blocks.postgres_writes import PostgresBlockWriter
from zquant_kit.persistence.blocks.sqlite_rows import SqliteRowStore
from zquant_kit.persistence.engine import is_sqlite, reader


def _checked_panel(
    codes: Sequence[str], dates: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    days = np.asarray(dates).astype("datetime64[D]")
    panel = np.asarray(values, dtype=np.float64)
    if days.ndim != 1 or panel.shape != (days.size, len(codes)):
        raise ValueError(f"values must be dates × codes = ({days.size}, {len(codes)}), got {panel.shape}")
    if len(set(codes)) != len(codes):
        raise ValueError("codes repeat")
    if days.size > 1 and not (np.diff(days.astype(np.int64)) > 0).all():
        raise ValueError("dates must be ascending and unique")
    return days, panel


def _panel_of(frame: pd.DataFrame, series: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(dates, values dates × series) from stored rows, NaN where a series has no row on a date."""
    if frame.empty:
        return np.array([], dtype="datetime64[D]"), np.empty((0, len(series)))
    days = frame["trade_date"].to_numpy().astype("datetime64[D]")
    dates = np.unique(days)
    panel = np.full((dates.size, len(series)), np.nan)
    columns = pd.Index(series).get_indexer(frame["ts_code"])
    panel[np.searchsorted(dates, days), columns] = frame["value"].to_numpy(dtype=np.float64)
    return dates, panel


class _BlockValueStore(FactorValueStore):
    """The dialect-independent part; subclasses say how rows are written and read."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @abstractmethod
    async def _write_rows(self, frame: pd.DataFrame) -> WriteCounts: ...

    @abstractmethod
    async def _read_rows(self, series: list[str], start: dt.date, end: dt.date) -> pd.DataFrame: ...

    async def write(
        self, factor_id: str, column: str, codes: Sequence[str], dates: np.ndarray, values: np.ndarray
    ) -> int:
        days, panel = _checked_panel(codes, dates, values)
        if panel.size == 0:
            return 0
        series = np.array([series_code(factor_id, column, code) for code in codes], dtype=object)
        frame = pd.DataFrame(
            {
                "ts_code": np.tile(series, days.size),
                "trade_date": np.repeat(days, len(codes)),
                "value": panel.ravel(),
            }
        )
        counts = await self._write_rows(frame)
        # After the rows: a failure here leaves the list behind the values (an incremental run then
        # recomputes a little more), never ahead of them.
        async with self._engine.begin() as connection:
            await record_series(connection, factor_id, column, list(codes), days[-1].item())
        return counts.total

    async def read(
        self, factor_id: str, column: str, codes: Sequence[str] | None, start: dt.date, end: dt.date
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        wanted = list(codes) if codes is not None else await self._stored_codes(factor_id, column)
        if not wanted:
            return [], np.array([], dtype="datetime64[D]"), np.empty((0, 0))
        series = [series_code(factor_id, column, code) for code in wanted]
        dates, panel = _panel_of(await self._read_rows(series, start, end), series)
        return wanted, dates, panel

    async def last_date(self, factor_id: str, column: str) -> dt.date | None:
        c = value_series.c
        query = select(func.max(c.last_date)).where(c.factor_id == factor_id, c.column_name == column)
        async with reader(self._engine).connect() as connection:
            newest: dt.date | None = await connection.scalar(query)
        return newest

    async def delete_factor(self, factor_id: str) -> None:
        async with self._engine.begin() as connection:
            await delete_factor_values(connection, factor_id)

    async def _stored_codes(self, factor_id: str, column: str) -> list[str]:
        c = value_series.c
        query = select(c.ts_code).where(c.factor_id == factor_id, c.column_name == column).order_by(c.ts_code)
        async with reader(self._engine).connect() as connection:
            return list((await connection.scalars(query)).all())


class PostgresFactorValueStore(_BlockValueStore):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._writer = PostgresBlockWriter(engine, VALUE_BLOCKS)
        self._reader = PostgresBlockReader(engine, VALUE_BLOCKS)

    async def _write_rows(self, frame: pd.DataFrame) -> WriteCounts:
        return await self._writer.write(DATASET, frame)

    async def _read_rows(self, series: list[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        return await self._reader.read_frame(DATASET, series, start, end)

    async def refresh_blocks(self) -> int:
        """Packs the years written since the last refresh into blocks; reads are correct either way."""
        return await self._writer.refresh_blocks()


class SqliteFactorValueStore(_BlockValueStore):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self._rows = SqliteRowStore(engine, VALUE_BLOCKS)

    async def _write_rows(self, frame: pd.DataFrame) -> WriteCounts:
        return await self._rows.write(DATASET, frame)

    async def _read_rows(self, series: list[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        return await self._rows.read_frame(DATASET, series, start, end)

    async def refresh_blocks(self) -> int:
        """SQLite keeps no blocks."""
        return 0


def factor_value_store(engine: AsyncEngine, url: str) -> PostgresFactorValueStore | SqliteFactorValueStore:
    return SqliteFactorValueStore(engine) if is_sqlite(url) else PostgresFactorValueStore(engine)
