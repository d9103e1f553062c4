"""Migrations 0004 and 0005 on PostgreSQL: a downgrade folds the append journal into the blocks (nothing lost, in
the int32-dates format of those revisions), an upgrade fills the column heads from the blocks and turns the blocks'
dates into bitmaps the store reads back unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import zquant_factor
from zquant_factor.adapters.sqlalchemy.tables import SCHEMA
from zquant_factor.adapters.sqlalchemy.value_store import BlockValueStore
from zquant_factor.adapters.sqlalchemy.value_store_postgres import PostgresFactorValueStore
from zquant_factor.adapters.sqlalchemy.value_tables import value_blocks
from zquant_kit.persistence import migrations
from zquant_kit.persistence.engine import create_engine

pytestmark = pytest.mark.integration

MIGRATIONS = Path(zquant_factor.__file__).parent / "migrations"
CODES = [f"{i:06d}.SH" for i in range(50)]
DAYS = np.busday_offset("2024-12-10", np.arange(20), roll="forward").astype("datetime64[D]")
SPAN = (dt.date(2024, 1, 1), dt.date(2025, 12, 31))


async def test_a_downgrade_folds_the_journal_and_an_upgrade_fills_the_heads(pg_database):
    whole = np.random.default_rng(0).normal(size=(DAYS.size, len(CODES)))
    await migrations.upgrade(MIGRATIONS, pg_database, SCHEMA)
    engine = create_engine(pg_database, SCHEMA)
    store = PostgresFactorValueStore(engine)
    await store.write_columns("f1", CODES, DAYS[:10], {"a": whole[:10], "b": whole[:10]})
    for day in range(10, DAYS.size):  # fewer entries than any fold_at: they stay in the journal
        await store.write_columns("f1", CODES, DAYS[day : day + 1], {"a": whole[day : day + 1]})
    await engine.dispose()
    await migrations.downgrade(MIGRATIONS, pg_database, SCHEMA, "0003")
    engine = create_engine(pg_database, SCHEMA)
    try:
        dates, values = await _day_number_blocks(engine, "f1", "a")
        np.testing.assert_array_equal(dates, DAYS)
        np.testing.assert_array_equal(values, whole)
        await migrations.upgrade(MIGRATIONS, pg_database, SCHEMA)
        store = PostgresFactorValueStore(engine)
        assert await store.last_date("f1", "a") == DAYS[-1].item()
        assert await store.last_date("f1", "b") == DAYS[9].item()
        codes, dates, values = await BlockValueStore(engine).read("f1", "a", None, *SPAN)
        assert codes == CODES
        np.testing.assert_array_equal(dates, DAYS)
        np.testing.assert_array_equal(values, whole)
    finally:
        await engine.dispose()


async def _day_number_blocks(
    engine: AsyncEngine, factor_id: str, column: str
) -> tuple[np.ndarray, np.ndarray]:
    """(dates, values dates × CODES) of a column's blocks in the format before revision 0005: int32 day numbers."""
    c = value_blocks.c
    query = select(c.ts_code, c.trade_days, c.packed_values).where(
        c.factor_id == factor_id, c.column_name == column
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query.order_by(c.year))).all()
    by_code: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for code, days, packed in rows:
        by_code.setdefault(code, []).append((np.frombuffer(days, "<i4"), np.frombuffer(packed, "<f8")))
    assert sorted(by_code) == CODES
    dates = np.concatenate([days for days, _ in by_code[CODES[0]]]).astype("datetime64[D]")
    values = np.column_stack([np.concatenate([part for _, part in by_code[code]]) for code in CODES])
    return dates, values
