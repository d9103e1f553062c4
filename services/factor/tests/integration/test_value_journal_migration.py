"""Migration 0004 on PostgreSQL: a downgrade folds the append journal into the blocks (nothing lost, readable by
the blocks-only store), an upgrade fills the column heads from the blocks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import zquant_factor
from zquant_factor.adapters.sqlalchemy.tables import SCHEMA
from zquant_factor.adapters.sqlalchemy.value_store import BlockValueStore, PostgresFactorValueStore
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
        codes, dates, values = await BlockValueStore(engine).read("f1", "a", None, *SPAN)
        assert codes == CODES
        np.testing.assert_array_equal(dates, DAYS)
        np.testing.assert_array_equal(values, whole)
        await migrations.upgrade(MIGRATIONS, pg_database, SCHEMA)
        store = PostgresFactorValueStore(engine)
        assert await store.last_date("f1", "a") == DAYS[-1].item()
        assert await store.last_date("f1", "b") == DAYS[9].item()
    finally:
        await engine.dispose()
