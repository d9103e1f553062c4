"""PostgreSQL's append journal: a short write past a column's newest date is one row per column, reads see it
like blocks (a code only in the journal included, a code missing from an entry without its dates), and the
entries fold into the blocks after `fold_at` of them or before any other write, the values unchanged."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select

from zquant_factor.adapters.sqlalchemy.value_journal import fold_at
from zquant_factor.adapters.sqlalchemy.value_store_postgres import PostgresFactorValueStore
from zquant_factor.adapters.sqlalchemy.value_tables import value_heads, value_journal
from zquant_factor.bootstrap import SERVICE
from zquant_kit.testing import built_app

pytestmark = pytest.mark.integration

CODES = [f"{i:06d}.SH" for i in range(30)]
DAYS = np.busday_offset("2024-12-10", np.arange(60), roll="forward").astype("datetime64[D]")  # into 2025
SPAN = (dt.date(2024, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture
async def app(migrated_pg_database):
    """PostgreSQL only: the journal is its store's (SQLite's writes blocks only, covered by test_value_store)."""
    async with built_app(SERVICE, migrated_pg_database) as app:
        yield app


@pytest.fixture
async def store(app):
    assert isinstance(app.values, PostgresFactorValueStore)
    return app.values


async def _entries(app, column: str) -> int:
    c = value_journal.c
    async with app.engine.connect() as connection:
        query = select(func.count()).where(c.factor_id == "f1", c.column_name == column)
        return int(await connection.scalar(query))


async def test_daily_appends_are_journal_rows_that_read_like_blocks(app, store):
    whole = np.random.default_rng(1).normal(size=(DAYS.size, len(CODES) + 1))
    await store.write_columns("f1", CODES, DAYS[:10], {"k": whole[:10, :-1], "d": whole[:10, :-1]})
    await store.write_columns("f1", CODES, DAYS[10:11], {"k": whole[10:11, :-1], "d": whole[10:11, :-1]})
    late = [*CODES[1:], "999999.SH"]  # one code leaves, one is new
    await store.write("f1", "k", late, DAYS[11:12], whole[11:12, 1:])
    assert (await _entries(app, "k"), await _entries(app, "d")) == (2, 1)
    codes, dates, values = await store.read("f1", "k", None, *SPAN)
    assert codes == sorted([*CODES, "999999.SH"])
    np.testing.assert_array_equal(dates, DAYS[:12])
    expected = np.full((12, len(codes)), np.nan)
    expected[:11, :-1], expected[11, 1:] = whole[:11, :-1], whole[11, 1:]
    np.testing.assert_array_equal(values, expected)
    _, first_dates, first = await store.read("f1", "k", CODES[:1], *SPAN)
    np.testing.assert_array_equal(first_dates, DAYS[:11])  # not on the day it was left out
    np.testing.assert_array_equal(first[:, 0], whole[:11, 0])
    assert await store.last_date("f1", "k") == DAYS[11].item()


async def test_entries_fold_into_the_blocks_after_fold_at_of_them(app, store):
    whole = np.random.default_rng(2).normal(size=(DAYS.size, len(CODES)))
    await store.write("f1", "k", CODES, DAYS[:5], whole[:5])
    days = 5
    while days < 5 + fold_at("f1", "k") - 1:
        await store.write("f1", "k", CODES, DAYS[days : days + 1], whole[days : days + 1])
        days += 1
    assert await _entries(app, "k") == fold_at("f1", "k") - 1
    await store.write(
        "f1", "k", CODES, DAYS[days : days + 1], whole[days : days + 1]
    )  # the entries span New Year
    assert await _entries(app, "k") == 0
    _, dates, values = await store.read("f1", "k", CODES, *SPAN)
    np.testing.assert_array_equal(dates, DAYS[: days + 1])
    np.testing.assert_array_equal(values, whole[: days + 1])


async def test_an_overlapping_write_folds_first_and_its_values_win(app, store):
    whole = np.random.default_rng(3).normal(size=(DAYS.size, len(CODES)))
    await store.write("f1", "k", CODES, DAYS[:5], whole[:5])
    for day in (5, 6):
        await store.write("f1", "k", CODES, DAYS[day : day + 1], whole[day : day + 1])
    changed = whole[4:7] + 1.0
    await store.write("f1", "k", CODES, DAYS[4:7], changed)
    assert await _entries(app, "k") == 0
    _, dates, values = await store.read("f1", "k", CODES, *SPAN)
    np.testing.assert_array_equal(dates, DAYS[:7])
    np.testing.assert_array_equal(values, np.vstack([whole[:4], changed]))
    await store.write("f1", "k", CODES, DAYS[2:3], whole[2:3])  # older than the newest: blocks, head kept
    assert await store.last_date("f1", "k") == DAYS[6].item()


async def test_delete_factor_takes_its_journal_and_heads(app, store):
    whole = np.random.default_rng(4).normal(size=(6, len(CODES)))
    await store.write("f1", "k", CODES, DAYS[:5], whole[:5])
    await store.write("f1", "k", CODES, DAYS[5:6], whole[5:6])
    await store.delete_factor("f1")
    assert await _entries(app, "k") == 0
    async with app.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(value_heads)) == 0
    assert await store.last_date("f1", "k") is None
    assert (await store.read("f1", "k", None, *SPAN))[0] == []
